package conn

import "runtime"

const (
	// maxKeptBuffer is the largest write buffer an idle Conn keeps for
	// reuse: batches of small commands fit (128 pipelined GETs take about
	// 4 KiB). A busy Conn keeps bigger ones, as big as its recent batches
	// (see bufferSizing), until it idles (see trimWriteBuffers).
	maxKeptBuffer = 8 << 10
	// maxDirectWrite is the most a caller whose context can end writes
	// from its own goroutine. It writes only when nothing is in flight, so
	// the socket's send buffer is empty and a write this small does not
	// block even when the server has stopped reading; bigger writes go
	// through the writer, so the caller stays free to honour its context.
	// A caller whose context never ends cannot leave before its reply
	// anyway: it writes any size itself, which saves waking the writer.
	maxDirectWrite = 16 << 10
	// writeChunk is the most one write call takes: a big buffer is
	// written in pieces, so that a socket that still takes bytes, slowly,
	// shows progress to the liveness check (see Conn.activity).
	writeChunk = 256 << 10
)

// writeLoop is the writer goroutine. Woken through kick, it first yields, so
// that goroutines just handed their replies (and about to send again) can
// append to the buffer; then it takes the whole buffer and writes it with one
// call, and again while more has gathered.
func (c *Conn) writeLoop() {
	defer close(c.writerDone)
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		for {
			runtime.Gosched()
			c.mu.Lock()
			if !c.writing {
				c.wbuf = c.pending.dropWithdrawn(c.wbuf, &c.held)
			}
			if c.writing || len(c.wbuf) == 0 {
				// Empty, or a caller is writing: it wakes us if
				// more gathers meanwhile.
				c.mu.Unlock()
				break
			}
			buf, held := c.takeBuffer()
			c.mu.Unlock()
			if _, ok := c.flush(buf, held); !ok {
				return
			}
		}
	}
}

// wakeWriter nudges the writer; a nudge already pending is enough.
func (c *Conn) wakeWriter() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// takeBuffer hands the pending bytes, and the arguments held out of them,
// to the caller for writing, with c.mu held: their requests become in
// flight, and the spare buffer and list collect what comes next. Each is
// stamped with the socket reads done so far, all of them before its bytes
// reach the socket: its replies begin in later reads.
func (c *Conn) takeBuffer() ([]byte, []heldArg) {
	c.wbuf = c.pending.dropWithdrawn(c.wbuf, &c.held)
	c.pending.markWritten(c.sock.n.Load())
	buf, held := c.wbuf, c.held.args
	c.sizing.note(len(buf))
	c.inWrite = len(buf) + c.held.bytes
	c.wbuf = c.spare[:0]
	c.spare = nil
	c.held = heldArgs{args: c.spareHeld[:0]}
	c.spareHeld = nil
	c.writing = true
	return buf, held
}

// flush writes buf with its held arguments, taken by takeBuffer, and keeps
// both as the next spares. It reports whether bytes gathered meanwhile, and
// ok = false after a write error, which closed the Conn.
func (c *Conn) flush(buf []byte, held []heldArg) (more, ok bool) {
	var err error
	if len(held) > 0 {
		err = c.vector.write(c, buf, held)
	} else {
		err = c.writeChunks(buf)
	}
	if err != nil {
		c.closeWith(connectionLost(err))
		return false, false
	}
	clear(held) // the callers' strings may go
	c.mu.Lock()
	if !c.sizing.keep(cap(buf), c.maxPending) {
		buf = nil
	}
	c.spare = buf
	c.spareHeld = held[:0]
	c.writing = false
	c.inWrite = 0
	c.madeRoom()
	more = len(c.wbuf) > 0
	c.mu.Unlock()
	return more, true
}

// writeChunks writes buf in pieces of at most writeChunk bytes.
func (c *Conn) writeChunks(buf []byte) error {
	for rest := buf; len(rest) > 0; {
		n := min(len(rest), writeChunk)
		c.writes.Add(1)
		w, err := c.nc.Write(rest[:n])
		c.counts.bytesWritten.Add(uint64(w))
		if err != nil {
			return err
		}
		rest = rest[n:]
		if len(rest) > 0 {
			// A piece of a big buffer went: the socket takes bytes,
			// slowly maybe (see Conn.activity).
			c.writeProgress.Add(1)
		}
	}
	return nil
}

// bufferSizing decides which write buffers a Conn keeps for reuse, so that
// a busy Conn writes its batches without growing a new buffer for each:
// those no bigger than maxKeptBuffer always, bigger ones while the recent
// batches are as big. It runs with Conn.mu held.
type bufferSizing struct {
	// high is a decaying high-water mark of the batches taken for
	// writing: it jumps to a bigger batch and loses 1/4096 at each
	// smaller one, so it follows a load's peaks rather than its troughs.
	// 128 writers make batches of every size between a few commands and
	// all of them, thousands a second: at 1/256 the kept buffers fell
	// below the peaks within a few milliseconds and were grown again,
	// 2,400 to 3,700 bytes per SET of 16 KiB. An idle Conn still lets
	// its big buffers go at once (see trimWriteBuffers).
	high int
}

// note records a batch of n bytes taken for writing.
func (s *bufferSizing) note(n int) {
	if n >= s.high {
		s.high = n
		return
	}
	s.high -= s.high >> 12
}

// keep reports whether a buffer of capacity size is worth keeping: it is
// small, or no more than twice the recent batches (a buffer grown by append
// to hold a batch is up to twice its size) and within bound, the Conn's
// MaxWriteBuffer.
func (s *bufferSizing) keep(size, bound int) bool {
	return size <= maxKeptBuffer || size <= min(2*s.high, bound)
}

// trimWriteBuffers lets go of write buffers bigger than maxKeptBuffer on a
// Conn that has gone quiet (see checkLiveness), so that an idle Conn stays
// small; the one a write in progress holds goes when the write ends, since
// the high-water mark starts again from nothing. The lists of held
// arguments, and the vector writer's pieces when no write is using them,
// go too once bigger than maxKeptBuffer: a batch of thousands of big
// values grows them to tens of KiB.
func (c *Conn) trimWriteBuffers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sizing.high = 0
	if cap(c.spare) > maxKeptBuffer {
		c.spare = nil
	}
	if len(c.wbuf) == 0 && cap(c.wbuf) > maxKeptBuffer {
		c.wbuf = nil
	}
	if heldListBytes(c.spareHeld) > maxKeptBuffer {
		c.spareHeld = nil
	}
	if len(c.held.args) == 0 && heldListBytes(c.held.args) > maxKeptBuffer {
		c.held.args = nil
	}
	if !c.writing && c.vector.bytes() > maxKeptBuffer {
		c.vector = vectorWriter{}
	}
}

// writeBufferBytes is the capacity of the write buffers c holds, the lists
// of held arguments and the vector writer's pieces included, for tests.
func (c *Conn) writeBufferBytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := cap(c.wbuf) + cap(c.spare) + heldListBytes(c.held.args) + heldListBytes(c.spareHeld)
	if !c.writing {
		n += c.vector.bytes()
	}
	return n
}
