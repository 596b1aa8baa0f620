package conn

import "runtime"

const (
	// maxKeptBuffer is the largest write buffer kept for reuse after a
	// write; a bigger one (from a burst of large commands) is left to the
	// collector so an idle Conn stays small. Batches of small commands fit
	// (128 pipelined GETs take about 4 KiB).
	maxKeptBuffer = 8 << 10
	// maxDirectWrite is the most a caller writes from its own goroutine.
	// It writes only when nothing is in flight, so the socket's send buffer
	// is empty and a write this small does not block even when the server
	// has stopped reading; bigger writes go through the writer, so the
	// caller stays free to honour its context.
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
				c.wbuf = c.pending.dropWithdrawn(c.wbuf)
			}
			if c.writing || len(c.wbuf) == 0 {
				// Empty, or a caller is writing: it wakes us if
				// more gathers meanwhile.
				c.mu.Unlock()
				break
			}
			buf := c.takeBuffer()
			c.mu.Unlock()
			if _, ok := c.flush(buf); !ok {
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

// takeBuffer hands the pending bytes to the caller for writing, with c.mu
// held: their requests become in flight, and the spare buffer collects what
// comes next. Each is stamped with the socket reads done so far, all of them
// before its bytes reach the socket: its replies begin in later reads.
func (c *Conn) takeBuffer() []byte {
	c.wbuf = c.pending.dropWithdrawn(c.wbuf)
	c.pending.markWritten(c.sock.n.Load())
	buf := c.wbuf
	c.wbuf = c.spare[:0]
	c.spare = nil
	c.writing = true
	c.inWrite = len(buf)
	return buf
}

// flush writes buf, taken by takeBuffer, and keeps it as the next spare. It
// reports whether bytes gathered meanwhile, and ok = false after a write
// error, which closed the Conn.
func (c *Conn) flush(buf []byte) (more, ok bool) {
	for rest := buf; len(rest) > 0; {
		n := min(len(rest), writeChunk)
		c.writes.Add(1)
		w, err := c.nc.Write(rest[:n])
		c.counts.bytesWritten.Add(uint64(w))
		if err != nil {
			c.closeWith(connectionLost(err))
			return false, false
		}
		rest = rest[n:]
		if len(rest) > 0 {
			// A piece of a big buffer went: the socket takes bytes,
			// slowly maybe (see Conn.activity).
			c.writeProgress.Add(1)
		}
	}
	if cap(buf) > maxKeptBuffer {
		buf = nil
	}
	c.mu.Lock()
	c.spare = buf
	c.writing = false
	c.inWrite = 0
	c.madeRoom()
	more = len(c.wbuf) > 0
	c.mu.Unlock()
	return more, true
}
