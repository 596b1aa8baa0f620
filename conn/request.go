package conn

import (
	"sync"
	"sync/atomic"

	"github.com/respwire/respwire/resp"
)

// replyShape says how many replies a request takes and how they are kept.
type replyShape uint8

const (
	shapeOne     replyShape = iota // Do: one reply, kept in val
	shapeMany                      // DoMulti: len(vals) replies, kept in vals
	shapeBarrier                   // Send: up to the barrier's confirmation; the command's error is kept in val
)

// A request's life, moved by compare-and-swap so that exactly one side
// disposes of it: the caller, or whoever answers it (the reader, or the
// teardown that fails it).
const (
	requestWaiting   int32 = iota // in the queue; the caller waits on done
	requestAnswered               // val/vals/err are set; done has been signalled
	requestAbandoned              // the caller left (its context ended); the answerer recycles it
)

// request is one caller's place in the pipeline. It comes from a pool, and
// goes back there only when neither the caller nor the reader can touch it.
type request struct {
	shape replyShape
	val   resp.Value
	vals  []resp.Value
	got   int // replies taken so far (shapeMany)
	// command and confirmed, for a Send (shapeBarrier): its command's
	// name, and whether a confirmation of that kind came.
	command   string
	confirmed bool
	err       error // why the request failed without its reply

	// start and end delimit its command bytes in Conn.wbuf while unwritten;
	// held and heldBytes count its arguments held out of it (see
	// Conn.appendCommand).
	start, end      int
	held, heldBytes int
	// written is set, under Conn.mu, when its bytes are taken for writing.
	written bool
	// answering is set, under Conn.mu, when its last reply is taken (see
	// pendingReplies.answered): its reply is counted, and its answer
	// comes even if its caller is leaving.
	answering bool
	// blocking: its command may hold its reply back by design (BLPOP,
	// WAIT, ...), so silence while it waits is no sign of a lost link.
	blocking bool
	// patient: its caller's context never ends, so the caller waits for
	// the whole write anyway and may make it itself (see Conn.unlock).
	patient bool
	// uncounted: the Conn's own command (see Conn.doOwn), left out of
	// its Stats and its hooks.
	uncounted bool
	// sent is how many socket reads had returned bytes when its command
	// was taken for writing (see takeBuffer): its replies begin in later
	// reads.
	sent uint64

	// stream, for a DoStream, is where its reply goes; streams is its
	// Conn's count of such requests, which recycle decrements.
	stream  *streamTarget
	streams *atomic.Int32

	state atomic.Int32
	done  chan struct{} // capacity 1: the answer never blocks
	home  *sync.Pool    // its Conn's spares, where recycle puts it
}

// getRequest takes a spare request of c's, or makes one. Spares are kept per
// Conn, not in one global pool: a request's done channel belongs to the
// testing/synctest bubble it was made in, and a Conn lives in one bubble.
func (c *Conn) getRequest(shape replyShape) *request {
	r, _ := c.spares.Get().(*request)
	if r == nil {
		r = &request{done: make(chan struct{}, 1), home: &c.spares}
	}
	r.shape = shape
	return r
}

// recycle returns r to the pool; the caller must be its last user.
func recycle(r *request) {
	r.val, r.vals, r.got, r.err, r.written, r.answering = resp.Value{}, nil, 0, nil, false, false
	r.held, r.heldBytes = 0, 0
	r.command, r.confirmed, r.blocking, r.patient, r.uncounted = "", false, false, false, false
	if r.stream != nil {
		r.streams.Add(-1)
		r.stream, r.streams = nil, nil
	}
	r.state.Store(requestWaiting)
	r.home.Put(r)
}

// take gives r one reply and reports whether r is complete. It runs on the
// reader goroutine, under Conn.mu.
func (r *request) take(v resp.Value) bool {
	switch r.shape {
	case shapeOne:
		r.val = v
		return true
	case shapeMany:
		r.vals[r.got] = v
		r.got++
		return r.got == len(r.vals)
	default:
		// Only error replies: confirmations are push frames (see
		// Conn.sendPushed). The first is the command's, unless the
		// command was already confirmed; the next is the barrier's.
		if !isError(v) {
			return false
		}
		if r.confirmed || isError(r.val) {
			return true
		}
		r.val = v
		return false
	}
}

// answer hands r back to its caller, or recycles it when the caller left.
func (r *request) answer() {
	if r.state.CompareAndSwap(requestWaiting, requestAnswered) {
		r.done <- struct{}{}
		return
	}
	recycle(r)
}

// abandon tells the answerer that the caller is leaving. When it reports
// false, the answer is already on its way and the caller must take it.
func (r *request) abandon() bool {
	return r.state.CompareAndSwap(requestWaiting, requestAbandoned)
}

func isError(v resp.Value) bool {
	return v.Kind() == resp.SimpleError || v.Kind() == resp.BulkError
}
