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
	calm int    // reads in a row that did not fill the buffer
	// kept is what the reader keeps of chunks from long bodies (see
	// resp.Reader.Trim), and calmTrims how often calm reads (not an idle
	// Conn) let them go, for tests.
	kept, calmTrims atomic.Int64
}

// sizeReadBuffer is called by whoever reads the socket (the reader goroutine
// or a caller in readOwn) between frames. Once per socket read, it grows the
// read buffer readGrowth times, up to maxReadBuffer, when that read filled
// all the room it had (more bytes were likely waiting) or a read since went
// straight into a long body's memory; and after calmReads looks in a row
// at reads that did neither and brought less than 1/readGrowth of the
// buffer (the most any read brought since the last look), it
// shrinks it by as much, down to readBufferSize. There, calm reads also let
// go of the chunks the reader keeps from long bodies (see resp.Reader.Trim),
// as an idle Conn does at once: a long body's pieces come in reads shorter
// than a big buffer's quarter, and letting the chunks go at every step would
// make the next long body pay for them again. A Conn with OnPush keeps readBufferSize and no
// chunks: its reader never idles in lend, where an idle Conn's buffer
// shrinks.
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
	if c.sock.filled || c.sock.direct {
		c.sock.direct = false
		c.readSizing.calm = 0
		if size < maxReadBuffer {
			c.resizeReader(min(size*readGrowth, maxReadBuffer))
			c.readGrows.Add(1)
		}
		return
	}
	if size <= readBufferSize && c.rd.Retained() == 0 {
		return
	}
	if most >= size/readGrowth {
		c.readSizing.calm = 0 // a load this buffer is right for
		return
	}
	if c.readSizing.calm++; c.readSizing.calm >= calmReads {
		c.readSizing.calm = 0
		size = max(size/readGrowth, readBufferSize)
		if size == readBufferSize {
			// Calm at the smallest buffer: no long bodies come
			// any more.
			if c.rd.Retained() != 0 {
				c.readSizing.calmTrims.Add(1)
			}
			c.trimReader()
		}
		c.resizeReader(size)
	}
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
