package conn

import "sync/atomic"

const (
	// maxReadBuffer is the largest the reader's buffer grows while the
	// Conn is busy: replies that come faster than a smaller buffer holds
	// (16 KiB values for many callers, long pipelines) come many to a
	// read, and a value that fits is copied out of the buffer instead of
	// being read into memory of its own, zeroed first. (rueidis reads
	// into half a MiB too.)
	maxReadBuffer = 512 << 10
	// readGrowth is the factor the buffer grows by when a read fills it,
	// and shrinks by after calmReads reads in a row that used less than
	// its 1/readGrowth: a buffer the load fills sometimes, but not
	// always, keeps its size, so that it is not let go and allocated
	// again every few dozen reads.
	readGrowth = 4
	// calmReads is how many socket reads in a row must stay that short
	// before a busy Conn's reader shrinks its buffer by one step. An idle
	// Conn goes back to readBufferSize at once (see lend).
	calmReads = 64
)

// readSizing is the state sizeReadBuffer keeps, for whoever reads the
// socket.
type readSizing struct {
	seen uint64 // the socket read the latest decision looked at
	calm int    // looks in a row at calm reads, or at long values (see calmLook)
	// kept is what the reader keeps of chunks from long bodies (see
	// resp.Reader.Trim), and calmTrims how often calm reads (not an idle
	// Conn) let them go, for tests.
	kept, calmTrims atomic.Int64
}

// longValue is the length past which a body counts as a long value for the
// buffer's sizing: longer than a grown buffer holds several of.
const longValue = maxReadBuffer / readGrowth

// sizeReadBuffer is called by whoever reads the socket (the reader goroutine
// or a caller in readOwn) between frames. Once per socket read, it grows the
// read buffer readGrowth times, up to maxReadBuffer, when that read filled
// all the room it had (more bytes were likely waiting); and after calmReads
// looks in a row at reads that brought less than 1/readGrowth of the buffer
// (the most any read brought since the last look), it shrinks it by as
// much, down to readBufferSize. There, calm reads also let go of the chunks
// the reader keeps from long bodies (see resp.Reader.Trim), as an idle Conn
// does at once: a long body's pieces come in reads shorter than a big
// buffer's quarter, and letting the chunks go at every step would make the
// next long body pay for them again. A Conn with OnPush keeps
// readBufferSize and no chunks: its reader never idles in lend, where an
// idle Conn's buffer shrinks.
//
// The reads that brought a long value (longer than longValue) say nothing
// of the load: its bytes fill every read, and a bigger buffer would hold
// no more replies, only put more of the value through one more copy (the
// read that brings its header brings as much of it as the buffer takes:
// half a 1 MiB GET, through a 512 KiB buffer). Such a look does not grow
// the buffer; above readBufferSize it counts as calm, and at readBufferSize
// as busy, which keeps the chunks.
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
	size := c.rd.Size()
	most := c.sock.most
	c.sock.most = 0
	switch {
	case c.rd.LongestBody() > longValue:
		if size > readBufferSize {
			c.calmLook(size, true)
		} else {
			c.readSizing.calm = 0
		}
	case c.sock.filled:
		c.readSizing.calm = 0
		if size < maxReadBuffer {
			c.resizeReader(min(size*readGrowth, maxReadBuffer))
			c.readGrows.Add(1)
		}
	case size <= readBufferSize && c.rd.Retained() == 0:
	case most >= size/readGrowth:
		c.readSizing.calm = 0 // a load this buffer is right for
	default:
		c.calmLook(size, false)
	}
}

// calmLook counts a look at calm reads, and after calmReads of them in a
// row shrinks the buffer of size one step (see sizeReadBuffer). At
// readBufferSize it lets go of the chunks too, unless longs: the looks were
// at long values, which the chunks are for.
func (c *Conn) calmLook(size int, longs bool) {
	if c.readSizing.calm++; c.readSizing.calm < calmReads {
		return
	}
	c.readSizing.calm = 0
	size = max(size/readGrowth, readBufferSize)
	if size == readBufferSize && !longs {
		// Calm at the smallest buffer: no long bodies come any more.
		if c.rd.Retained() != 0 {
			c.readSizing.calmTrims.Add(1)
		}
		c.trimReader()
	}
	c.resizeReader(size)
}

// resizeReader gives the reader a buffer of size, for whoever reads the
// socket, between frames.
func (c *Conn) resizeReader(size int) {
	if c.rd.Size() != size {
		c.rd.Resize(size)
		c.readSize.Store(int64(size))
	}
}

// shrinkReadBuffer puts the reader back on a buffer of readBufferSize, with
// no chunks, for whoever reads the socket, between frames.
func (c *Conn) shrinkReadBuffer() {
	c.readSizing.calm = 0
	c.trimReader()
	c.resizeReader(readBufferSize)
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
