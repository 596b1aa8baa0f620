package conn

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/respwire/respwire/resp"
)

// readOwnWithin is readOwn for a caller whose context can end (a call with a
// deadline, as most servers make): it reads the socket on the caller's
// goroutine, when the reader goroutine has lent it (see lend), for at most
// the window it lends it for (lendWindow) and never past ctx's deadline,
// which saves the hand-over of the reply from the reader goroutine. So that
// a read cut short loses nothing, the caller decodes a frame only once it
// lies whole in the buffer, and otherwise only fills the buffer, with a read
// deadline on the socket. A command that may hold its reply back by design
// (see isBlocking) is left to the reader goroutine, as are the replies of a
// Conn with OnPush, which never lends its socket.
//
// It reports true when r is answered, or will be by the teardown the read's
// failure started. It reports false when it leaves r to the reader goroutine,
// which it has woken: the socket is not free, the read deadline passed, or a
// frame is one the buffer cannot hold or judge (see resp.Reader.BufferedFrame,
// which also leaves a frame that is not well formed to the reader goroutine to
// refuse). A context that ends during the window is therefore noticed when
// the window ends: at most lendWindow late.
func (c *Conn) readOwnWithin(ctx context.Context, r *request) bool {
	if r.state.Load() == requestAnswered {
		return true
	}
	if !c.plain || r.blocking || c.onPush != nil || !c.reading.CompareAndSwap(readLent, readByCaller) {
		return false
	}
	until := time.Now().Add(time.Duration(c.lendFor.Load()))
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	answered := false
	if c.nc.SetReadDeadline(until) == nil {
		c.readDeadline = true
		answered = c.readWithin(r)
	}
	c.releaseSocket(answered)
	return answered
}

// readWithin is readOwnWithin's loop, on a socket with a read deadline set.
func (c *Conn) readWithin(r *request) bool {
	read := false
	defer func() {
		if read {
			c.ownReads.Add(1)
		}
	}()
	for {
		waiting := r.state.Load() != requestAnswered
		if !waiting && c.rd.PeekKind() != resp.Push {
			return true
		}
		if c.streams.Load() != 0 {
			return !waiting // a DoStream's reply may come, read by its own rules
		}
		switch n := c.rd.BufferedFrame(); {
		case n > 0:
			read = true
			if err := c.readNext(); err != nil {
				c.closeWith(connectionLost(err)) // answers r
				return true
			}
			c.sizeReadBuffer()
		case n < 0:
			// A frame this loop may not decode: the reader
			// goroutine's.
			return !waiting
		default:
			// Part of r's reply, or of a push frame that came with
			// it, which is applied before r's caller returns, as
			// readOwn does.
			if err := c.rd.Fill(); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return !waiting
				}
				c.closeWith(connectionLost(err)) // answers r
				return true
			}
		}
	}
}

// releaseSocket ends a caller's read of the socket (see readOwn): it lends it
// again, and wakes the reader goroutine when frames are left buffered, the
// reader goroutine asked for the socket back, requests are queued, or the
// caller's own request is left to it (answered is false).
func (c *Conn) releaseSocket(answered bool) {
	more := c.rd.Buffered() > 0
	c.reading.Store(readLent)
	if !answered || more || c.reclaim.Load() || c.anyQueued() {
		select {
		case c.wakeReader <- struct{}{}:
		default:
		}
	}
}

// clearReadDeadline removes a read deadline a caller left on the socket
// (see readOwnWithin), before a read that must wait as long as it takes. Only
// the socket's reader calls it, as only it sets one.
func (c *Conn) clearReadDeadline() {
	if c.readDeadline {
		c.nc.SetReadDeadline(time.Time{})
		c.readDeadline = false
	}
}
