package conn

import (
	"context"
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of a Client's counters (see Client.Stats), or of one
// Conn's (see Conn.Stats). The counters only grow over the Client's life,
// across redials; the gauges (InFlight, WriteBufferBytes, DedicatedInUse,
// DedicatedOpen) say how things stand at the moment of the snapshot.
type Stats struct {
	// Commands counts the replies read for callers, a batch's commands
	// one by one as they arrive (so a batch whose connection broke after
	// some of its replies counts those, though its call failed), error
	// replies included. Replies to calls whose
	// context had ended (counted in Timeouts), to the Conn's own idle
	// PINGs and to the DISCARD and UNWATCH that reset a Conn after
	// Dedicated are not counted (nor reported to Hooks).
	Commands uint64
	// Errors counts the error replies among Commands, and the commands
	// written that failed without a reply (the connection broke under them,
	// or their reply was over a limit). A command refused unsent is not
	// counted: a Client sends it again on its next Conn.
	Errors uint64
	// Timeouts counts the calls whose context ended before their reply
	// arrived, whether their command was written or not; for a Client,
	// also those whose context ended while they waited for a redial of the
	// shared Conn or for a dedicated Conn.
	Timeouts uint64
	Dials    uint64 // Conns a Client dialled: its first, redials and dedicated ones
	Redials  uint64 // redials of the shared Conn that succeeded
	Closed   uint64 // a Client's Conns that closed, by Close or because they broke

	BytesWritten uint64 // bytes written to servers, handshakes included
	BytesRead    uint64 // bytes read from servers, handshakes included

	InFlight int // commands written whose replies have not arrived, on the shared Conn
	// WriteBufferBytes is the bytes of commands the shared Conn holds for
	// writing: those waiting in its write buffer and those of the write in
	// progress, as Options.MaxWriteBuffer bounds them.
	WriteBufferBytes int
	DedicatedInUse   int // dedicated Conns on loan (blocking commands, Dedicated)
	DedicatedOpen    int // dedicated Conns open, idle ones included

	// Cache is the Client's cache, as CacheStats returns it; zero when
	// caching is off. Its hits are not counted, to keep them free of
	// shared writes: count them with Hooks.Cache when needed.
	Cache CacheStats
}

// connCounts are one Conn's counters. Each is written by one goroutine at a
// time, on a path that already serializes the work, so that counting adds
// no contended write to a caller's path: replies and errors under Conn.mu
// where the reply is handed over (see deliver), bytes read by whoever reads
// the socket (see countedReads), bytes written by whoever holds the write
// (see flush); timeouts on the rare path of a caller whose context ended.
type connCounts struct {
	replies uint64 // under Conn.mu
	errors  uint64 // under Conn.mu

	bytesWritten atomic.Uint64
	timeouts     atomic.Uint64
}

// countReply counts one reply handed to r (an error reply when isErr), or
// one read and dropped in its place (failed), with c.mu held. A request
// nobody waits for is not counted: its caller left (a timeout) or it is the
// Conn's own PING; nor is the Client's own reset of a dedicated Conn.
func (c *Conn) countReply(r *request, isErr bool) {
	if r.uncounted || r.state.Load() == requestAbandoned {
		return
	}
	c.counts.replies++
	if isErr {
		c.counts.errors++
	}
}

// countTimeout counts a call whose context ended before its reply came,
// for the Conn and at once for its Client: a call may leave a Conn that is
// closing, after its counters were added to the Client's (see retire).
func (c *Conn) countTimeout() {
	c.counts.timeouts.Add(1)
	if s := c.statsSink.Load(); s != nil {
		s.timeouts.Add(1)
	}
}

// ctxEnded counts a call whose context had ended before it began, and
// returns its error.
func (c *Conn) ctxEnded(ctx context.Context) error {
	c.countTimeout()
	return ctx.Err()
}

// Stats returns the Conn's own counters and gauges: Commands, Errors,
// Timeouts, BytesWritten, BytesRead, InFlight and WriteBufferBytes, since
// it was dialled. The Client's fields (Dials, Redials, Closed, the
// dedicated Conns, Cache) are zero.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	s := Stats{
		Commands:         c.counts.replies,
		Errors:           c.counts.errors,
		InFlight:         c.pending.written(),
		WriteBufferBytes: c.buffered(),
	}
	c.mu.Unlock()
	s.Timeouts = c.counts.timeouts.Load()
	s.BytesWritten = c.counts.bytesWritten.Load()
	s.BytesRead = c.sock.bytes.Load()
	return s
}

// clientStats gathers the counters of a Client's Conns: those still open
// (live) are read when a snapshot is taken, those closed were added to
// retired as they closed, so nothing is counted twice or lost across
// redials.
type clientStats struct {
	mu      sync.Mutex
	live    map[*Conn]struct{}
	retired Stats // the counters of the Conns closed

	dials   atomic.Uint64
	redials atomic.Uint64
	// timeouts counts the calls whose ctx ended: on a Conn (see
	// countTimeout), waiting for a redial or for a dedicated Conn.
	timeouts atomic.Uint64
}

func newClientStats() *clientStats {
	return &clientStats{live: make(map[*Conn]struct{})}
}

// track counts cn, just dialled, among the Client's Conns until it closes.
func (s *clientStats) track(cn *Conn) {
	s.dials.Add(1)
	s.mu.Lock()
	s.live[cn] = struct{}{}
	s.mu.Unlock()
	cn.statsSink.Store(s)
	if cn.State() == StateClosed {
		s.retire(cn) // it closed before it could see s; retire is idempotent
	}
}

// retire moves the counters of cn, which has closed, from the live Conns to
// the retired ones; only the first call for cn does anything.
func (s *clientStats) retire(cn *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live[cn]; !ok {
		return
	}
	delete(s.live, cn)
	addCounters(&s.retired, cn.Stats())
	s.retired.Closed++
}

// closing returns the Client's Conns that have begun closing and have not
// closed yet, for Client.Close to wait for.
func (s *clientStats) closing() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*Conn
	for cn := range s.live {
		if cn.State() != StateOpen {
			list = append(list, cn)
		}
	}
	return list
}

// addCounters adds the counters of from (not its gauges, nor its
// Timeouts, which its Conn counted for the Client already) to to.
func addCounters(to *Stats, from Stats) {
	to.Commands += from.Commands
	to.Errors += from.Errors
	to.BytesWritten += from.BytesWritten
	to.BytesRead += from.BytesRead
}

// snapshot sums the counters of every Conn the Client has had.
func (s *clientStats) snapshot() Stats {
	s.mu.Lock()
	st := s.retired
	for cn := range s.live {
		addCounters(&st, cn.Stats())
	}
	s.mu.Unlock()
	st.Dials = s.dials.Load()
	st.Redials = s.redials.Load()
	st.Timeouts = s.timeouts.Load()
	return st
}

// Stats returns a snapshot of the Client's counters, summed over every Conn
// it has dialled (the shared one, its redials and the dedicated ones), and
// its gauges: the shared Conn's commands in flight and write buffer, the
// dedicated Conns on loan and open, and the cache's figures. It takes a few
// locks briefly, each Conn's in turn, and costs nothing between calls:
// reading it every second is cheap.
func (c *Client) Stats() Stats {
	st := c.stats.snapshot()
	cur := c.current.Load().Stats()
	st.InFlight, st.WriteBufferBytes = cur.InFlight, cur.WriteBufferBytes
	st.DedicatedInUse, st.DedicatedOpen = c.pool.counts()
	st.Cache = c.CacheStats()
	return st
}

// counts returns how many Conns are on loan and how many open (idle or on
// loan).
func (p *connPool) counts() (inUse, open int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.onLoan), len(p.onLoan) + len(p.idle)
}
