package conn

// Stats is a snapshot of a Client's counters (see Client.Stats). The
// counters only grow over the Client's life, across redials; the gauges
// (InFlight, WriteBufferBytes, DedicatedInUse, DedicatedOpen, Conns) say how
// things stand at the moment of the snapshot.
type Stats struct {
	Commands uint64 // commands whose replies arrived, batches' commands counted one by one
	Errors   uint64 // error replies, and calls that failed without a reply
	Timeouts uint64 // calls whose context ended before their reply arrived
	Dials    uint64 // Conns dialled, redials and dedicated ones included
	Redials  uint64 // redials of the shared Conn that succeeded
	Closed   uint64 // Conns closed, by Close or because they broke

	BytesWritten uint64 // bytes written to servers
	BytesRead    uint64 // bytes read from servers

	InFlight         int // commands written whose replies have not arrived, on the shared Conn
	WriteBufferBytes int // bytes of commands waiting in the shared Conn's write buffer
	DedicatedInUse   int // dedicated Conns on loan (blocking commands, Dedicated)
	DedicatedOpen    int // dedicated Conns open, idle ones included

	Cache CacheStats // the Client's cache, as CacheStats returns it; zero when caching is off
}
