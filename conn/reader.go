package conn

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/resp"
)

// socketOwner is who reads the socket. Exactly one goroutine does at a
// time: the reader goroutine, or a caller it lent the socket to.
type socketOwner int32

const (
	readByReader socketOwner = iota // the reader goroutine reads, or is about to
	readLent                        // nobody reads: the socket is free for a lone caller
	readByCaller                    // a caller reads its own reply (see readOwn)
)

var socketOwnerNames = [...]string{readByReader: "reader", readLent: "lent", readByCaller: "caller"}

func (o socketOwner) String() string {
	if o >= 0 && int(o) < len(socketOwnerNames) {
		return socketOwnerNames[o]
	}
	return "socketOwner(" + strconv.Itoa(int(o)) + ")"
}

// socketOwnership holds the socketOwner, moved by compare-and-swap.
type socketOwnership struct{ v atomic.Int32 }

func (s *socketOwnership) Load() socketOwner   { return socketOwner(s.v.Load()) }
func (s *socketOwnership) Store(o socketOwner) { s.v.Store(int32(o)) }
func (s *socketOwnership) CompareAndSwap(old, new socketOwner) bool {
	return s.v.CompareAndSwap(int32(old), int32(new))
}

// lendWindow is how long the reader goroutine leaves the socket unused by
// callers before it takes it back. While lent and unused, a connection lost
// is noticed about this late at most (two windows), and so is a push frame
// that arrives while no caller reads: on a Conn without OnPush that is a
// client-tracking invalidation, read within two windows of its arrival, or
// sooner by the next caller that reads (see readOwn). A Conn with OnPush
// never lends its socket, so its push frames are not delayed.
const lendWindow = time.Millisecond

// readLoop is the reader goroutine: it decodes every frame, hands push frames
// to OnPush and replies to the request at the head of the queue. When the
// socket fails (or Close closed it) it closes the Conn, waits for the writer
// and marks the Conn closed. It does so on its way out, not in a deferred
// call: a panic in OnPush must crash the program at once, not wait there for
// a writer nobody stops.
//
// A serial caller pays for the hand-over of its reply from this goroutine to
// its own. So when nothing is in flight and the Conn has no OnPush, this
// goroutine steps away from the socket for up to lendWindow (see lend), and
// a caller alone in flight reads its reply itself (see readOwn).
func (c *Conn) readLoop() {
	var idle *time.Timer
	for {
		if err := c.readNext(); err != nil {
			c.closeWith(connectionLost(err))
			break
		}
		c.sizeReadBuffer()
		if c.rd.Buffered() != 0 {
			continue
		}
		if c.onPush == nil {
			if idle == nil {
				idle = time.NewTimer(lendWindow)
			}
			if !c.lend(idle) {
				break
			}
			continue
		}
		// Let the callers just answered run before this goroutine reads
		// again: the read will most likely find nothing yet and park,
		// and that system call need not delay them.
		runtime.Gosched()
	}
	if idle != nil {
		idle.Stop()
	}
	c.finish()
}

// dispatch hands one decoded frame, which began in socket read number origin
// (see readFrame), to where it belongs. When the read failed with readErr, it
// hands the failure of a skipped reply to its request (see deliverSkipped)
// and returns any other as the error that ends the Conn.
func (c *Conn) dispatch(v resp.Value, origin uint64, readErr error) error {
	if readErr != nil {
		return c.deliverSkipped(readErr, origin)
	}
	if v.Kind() == resp.Push {
		c.pushFrame(v)
		return nil
	}
	if c.proto == 2 && c.pushInRESP2(v) {
		return nil
	}
	return c.deliver(v, nil, origin)
}

// deliver gives v, which began in socket read number origin, to the oldest
// written request; or, when failed is not nil, that failure in place of a
// reply that was read and dropped. A reply that began in bytes read before
// that request's command was written (origin <= r.sent) cannot be its reply:
// it answers nothing, and taking it would hand every later caller the reply
// before its own, so the stream is refused as out of step.
func (c *Conn) deliver(v resp.Value, failed error, origin uint64) error {
	c.mu.Lock()
	r := c.pending.oldest()
	if err := outOfStep(r, v.Kind(), origin); err != nil {
		c.mu.Unlock()
		return err
	}
	var complete bool
	if failed != nil {
		complete = r.fail(failed)
	} else {
		complete = r.take(v)
	}
	c.countReply(r, failed != nil || isError(v))
	if complete {
		c.pending.answered()
	}
	c.mu.Unlock()
	if complete {
		r.answer()
	}
	return nil
}

// outOfStep reports why a reply of kind, which began in socket read number
// origin, cannot answer r, the oldest written request (nil when none is):
// nobody waits for it, or it was read before r's command was written (see
// deliver). It returns nil when the reply can be r's.
func outOfStep(r *request, kind resp.Kind, origin uint64) error {
	switch {
	case r == nil:
		return fmt.Errorf("conn: a %v reply that no command is waiting for: %w", kind, resp.ErrProtocol)
	case origin <= r.sent:
		return fmt.Errorf("conn: a %v reply read before the oldest waiting command was written: %w", kind, resp.ErrProtocol)
	}
	return nil
}

// lend leaves the socket to callers while nothing is in flight: the reader
// goroutine parks until a caller that cannot read for itself wakes it, or a
// whole window passes in which no caller read for itself, and then takes
// the socket back. It reports false when the Conn is closing.
func (c *Conn) lend(idle *time.Timer) bool {
	select {
	case <-c.wakeReader: // stale: whatever it was for is checked below
	default:
	}
	c.reading.Store(readLent)
	if c.anyQueued() && c.reading.CompareAndSwap(readLent, readByReader) {
		// Requests are in flight: read on, but let the callers just
		// answered run first, as readLoop does.
		c.clearReadDeadline()
		runtime.Gosched()
		return true
	}
	window := time.Duration(c.lendFor.Load())
	idle.Reset(window)
	reads := c.ownReads.Load()
	for {
		idled := false
		select {
		case <-c.stop:
			return false
		case <-c.wakeReader:
		case <-idle.C:
			if now := c.ownReads.Load(); now != reads {
				// Callers are reading for themselves: taking the
				// socket back would cost the next one a hand-over.
				reads = now
				idle.Reset(window)
				continue
			}
			idled = true
		}
		c.reclaim.Store(true)
		if c.reading.CompareAndSwap(readLent, readByReader) {
			c.reclaim.Store(false)
			c.clearReadDeadline()
			idle.Stop()
			if idled {
				// A whole window without a read: the Conn idles,
				// with a small buffer (see sizeReadBuffer).
				c.shrinkReadBuffer()
			}
			return true
		}
		// A caller is reading; it wakes this goroutine when it is done.
	}
}

// anyQueued reports whether any request is queued.
func (c *Conn) anyQueued() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending.len() > 0
}

// needReader makes sure someone reads the socket for a request just queued
// that will not read for itself.
func (c *Conn) needReader() {
	if c.reading.Load() == readLent {
		select {
		case c.wakeReader <- struct{}{}:
		default:
		}
	}
}

// readOwn reads the socket on the caller's goroutine until r is answered,
// when the socket is lent (see lend), which saves the hand-over of the reply
// from the reader goroutine. It reads frames as the reader goroutine would,
// answering whichever requests they are for. It reports false, having done
// nothing, when the socket is not free; true when r is answered, or will be
// by the teardown the read's failure started. Only a caller whose context
// never ends may read: a read cannot be cut short without losing the stream.
//
// Push frames that came in the same socket reads as r's reply (a
// client-tracking invalidation the server sent right behind it) are applied
// before readOwn returns, so that r's caller never finds the cache entry
// they drop.
func (c *Conn) readOwn(r *request) bool {
	if r.state.Load() == requestAnswered {
		return true // the reader goroutine answered it before lending
	}
	if !c.reading.CompareAndSwap(readLent, readByCaller) {
		return false
	}
	c.clearReadDeadline()
	read := false
	for r.state.Load() != requestAnswered || c.rd.PeekKind() == resp.Push {
		read = true
		if err := c.readNext(); err != nil {
			c.closeWith(connectionLost(err)) // answers r
			break
		}
		c.sizeReadBuffer()
	}
	if read {
		c.ownReads.Add(1)
	}
	c.releaseSocket(true)
	return true
}
