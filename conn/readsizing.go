package conn

import "sync/atomic"

const (
	// maxReadBuffer is the reader's buffer while the Conn is busy: replies
	// that come faster than one buffer of readBufferSize holds (16 KiB
	// values for many callers, long pipelines) come several to a read, and
	// a value that fits is copied out of the buffer instead of being read
	// into memory of its own, zeroed first.
	maxReadBuffer = 64 << 10
	// calmReads is how many socket reads in a row must stop short of
	// filling the buffer before a busy Conn's reader goes back to
	// readBufferSize. An idle Conn goes back at once (see lend).
	calmReads = 64
)

// readSizing is the state sizeReadBuffer keeps, for whoever reads the
// socket.
type readSizing struct {
	seen uint64 // the socket read the latest decision looked at
	calm int    // reads in a row that did not fill the buffer
	// kept is what the reader keeps of chunks from long bodies (see
	// resp.Reader.Trim), and calmTrims how often calm reads (not an idle
	// Conn) let them go, for tests.
	kept, calmTrims atomic.Int64
}

// sizeReadBuffer is called by whoever reads the socket (the reader goroutine
// or a caller in readOwn) between frames. Once per socket read, it grows the
// read buffer to maxReadBuffer when that read filled all the room it had
// (more bytes were likely waiting) or a read since went straight into a
// long body's memory, and shrinks it back to readBufferSize after
// calmReads reads in a row that did neither, letting go then of the
// chunks the reader keeps from long bodies (see resp.Reader.Trim), as an
// idle Conn does at once. A Conn
// with OnPush keeps readBufferSize and no chunks: its reader never idles in
// lend, where an idle Conn's buffer shrinks.
func (c *Conn) sizeReadBuffer() {
	n := c.sock.n.Load()
	if n == c.readSizing.seen {
		return
	}
	c.readSizing.seen = n
	c.noteKept()
	if c.onPush != nil {
		c.trimReader()
		return
	}
	if c.sock.filled || c.sock.direct {
		c.sock.direct = false
		c.readSizing.calm = 0
		if c.rd.Size() < maxReadBuffer {
			c.rd.Resize(maxReadBuffer)
			c.readSize.Store(maxReadBuffer)
			c.readGrows.Add(1)
		}
		return
	}
	if c.rd.Size() <= readBufferSize && c.rd.Retained() == 0 {
		return
	}
	if c.readSizing.calm++; c.readSizing.calm >= calmReads {
		if c.rd.Retained() != 0 {
			c.readSizing.calmTrims.Add(1)
		}
		c.shrinkReadBuffer()
	}
}

// shrinkReadBuffer puts the reader back on a buffer of readBufferSize, with
// no chunks, for whoever reads the socket, between frames.
func (c *Conn) shrinkReadBuffer() {
	c.readSizing.calm = 0
	c.trimReader()
	if c.rd.Size() > readBufferSize {
		c.rd.Resize(readBufferSize)
		c.readSize.Store(readBufferSize)
	}
}

// trimReader lets go of the chunks the reader keeps from long bodies.
func (c *Conn) trimReader() {
	if c.rd.Retained() != 0 {
		c.rd.Trim()
		c.readSizing.kept.Store(0)
	}
}

// noteKept records what the reader keeps from long bodies, for tests.
func (c *Conn) noteKept() {
	if k := int64(c.rd.Retained()); k != c.readSizing.kept.Load() {
		c.readSizing.kept.Store(k)
	}
}

// readBufferBytes is the size of the reader's buffer, for tests.
func (c *Conn) readBufferBytes() int {
	if n := c.readSize.Load(); n != 0 {
		return int(n)
	}
	return readBufferSize
}
