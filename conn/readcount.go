package conn

import (
	"net"
	"sync/atomic"

	"github.com/respwire/respwire/resp"
)

// countedReads is the socket as the Conn's resp.Reader sees it: it numbers
// the reads that return bytes, so that a reply can be told from bytes that
// were already read before its command was written (see Conn.deliver).
type countedReads struct {
	nc net.Conn
	n  atomic.Uint64 // reads that returned at least one byte
	// bytes counts the bytes read, for Stats.BytesRead; like n, it is
	// written by whoever reads the socket, one goroutine at a time.
	bytes atomic.Uint64
	// filled reports whether the latest read took as many bytes as it had
	// room for, up to maxReadBuffer: more were likely waiting (see
	// sizeReadBuffer). Like the reads, one goroutine at a time uses it.
	filled bool
	// most is the most bytes a read brought since sizeReadBuffer last
	// looked: a long body's pieces count, though that body's last read,
	// the one it looks at, may be short.
	most int
}

func (s *countedReads) Read(p []byte) (int, error) {
	n, err := s.nc.Read(p)
	if n > 0 {
		s.n.Add(1)
		s.bytes.Add(uint64(n))
	}
	s.filled = n == len(p) && n <= maxReadBuffer
	s.most = max(s.most, n)
	return n, err
}

// readFrame decodes the next frame, for whoever reads the socket, and
// returns with it its origin: the number of the socket read that brought the
// frame's first byte, or of a later read, never an earlier one. A frame that
// starts in the bytes still buffered starts in the latest read or before it;
// one that starts past them, in the next. Pub/sub messages for
// OnPubSubMessage on the way are handed to it (see takeMessages).
func (c *Conn) readFrame() (v resp.Value, origin uint64, err error) {
	if c.pubsub.fn != nil {
		if err = c.takeMessages(); err != nil {
			return resp.Value{}, c.sock.n.Load() + 1, err
		}
	}
	origin = c.sock.n.Load()
	if c.rd.Buffered() == 0 {
		origin++
		// Wait for the frame before asking whose it is: a DoStream
		// queued meanwhile may be the one it answers.
		if err = c.rd.WaitFrame(); err != nil {
			return resp.Value{}, origin, err
		}
	}
	if c.streams.Load() != 0 {
		if st := c.headStream(origin); st != nil {
			return c.readStream(st, origin)
		}
	}
	v, err = c.rd.Read()
	return v, origin, err
}
