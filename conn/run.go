package conn

import (
	"fmt"

	"github.com/respwire/respwire/resp"
)

// runLen is how many buffered replies readNext decodes at most before it
// delivers them, under one lock. It bounds how long the first reply of a run
// waits for the others to be decoded, and the scratch each Conn keeps.
const runLen = 64

// readNext reads the next reply, or the run of replies buffered, for
// whoever reads the socket, and hands each to where it belongs. It returns
// the error that ends the Conn. A run is taken only when no DoStream or
// OnPubSubMessage needs to see each frame first (see readFrame); it holds
// no push frame (see resp.Reader.ReadRun), but in RESP2 its arrays may be
// pub/sub frames, so there each goes through dispatch. With nothing
// buffered while a DoMulti is in flight, it waits for bytes first, so that
// the first reply of a socket read joins the run too: a DoMulti's first
// value then shares its slab, and its first MGET's elements, instead of
// allocating their own. Otherwise the first reply of a read is delivered
// on its own, before the others are decoded.
func (c *Conn) readNext() error {
	if c.multis.Load() > 0 && c.pubsub.fn == nil && c.streams.Load() == 0 && c.rd.Buffered() == 0 {
		// As readFrame waits: a frame past the bytes buffered begins in
		// the next socket read.
		origin := c.sock.n.Load() + 1
		if err := c.rd.WaitFrame(); err != nil {
			return c.dispatch(resp.Value{}, origin, err)
		}
	}
	if c.rd.Buffered() > 0 && c.pubsub.fn == nil && c.streams.Load() == 0 {
		if c.run == nil {
			c.run = make([]resp.Value, runLen)
		}
		dst, share, into := c.runFor()
		if n := c.rd.ReadRun(dst, share); n > 0 {
			// Every frame of the run was buffered: it began in the
			// latest socket read or before (see readFrame).
			origin := c.sock.n.Load()
			var err error
			switch {
			case into != nil:
				err = c.deliverInPlace(into, n, origin)
			case c.proto == 2:
				// In RESP2 an array may be a pub/sub frame (see
				// pushInRESP2): each value goes through dispatch.
				for _, v := range c.run[:n] {
					if err = c.dispatch(v, origin, nil); err != nil {
						break
					}
				}
				clear(c.run[:n]) // keep no value alive here
			default:
				err = c.deliverRun(c.run[:n], origin)
				clear(c.run[:n])
			}
			return err
		}
	}
	v, origin, err := c.readFrame()
	return c.dispatch(v, origin, err)
}

// deliverRun gives the replies of vals, in order, to the oldest written
// requests, as deliver gives one, taking Conn.mu once for all of them; it
// answers the requests they complete once the lock is released. A DoMulti
// takes its replies of the run in one copy (runFor decodes a DoMulti's
// run in place instead, see deliverInPlace). It is for RESP3, where no
// reply of a run can be a push frame.
func (c *Conn) deliverRun(vals []resp.Value, origin uint64) error {
	var completed [runLen]*request
	answered := 0
	var err error
	c.mu.Lock()
	for len(vals) > 0 {
		r := c.pending.oldest()
		if err = outOfStep(r, vals[0].Kind(), origin); err != nil {
			break
		}
		var complete bool
		if r.shape == shapeMany {
			n := copy(r.vals[r.got:], vals)
			r.got += n
			complete = r.got == len(r.vals)
			c.countReplies(r, n)
			vals = vals[n:]
		} else {
			complete = r.take(vals[0])
			c.countReply(r, isError(vals[0]))
			vals = vals[1:]
		}
		if complete {
			c.pending.answered()
			completed[answered] = r
			answered++
		}
	}
	c.mu.Unlock()
	for _, r := range completed[:answered] {
		r.answer()
	}
	return err
}

// runFor returns where the next run goes, and whether its small strings may
// share slabs (see resp.Reader.ReadRun): only when the oldest request is a
// DoMulti, and then the run holds no more than that request's replies. A
// slab is right for the replies of one DoMulti, which its caller gets
// together; between callers one kept 16-byte value would keep up to 4 KiB
// of other callers' replies alive. So a Do's GET allocates its value, and
// only a DoMulti's values share (with at most the tail of the DoMulti read
// before it).
//
// In RESP3, where no reply of a run needs dispatch, a DoMulti's run goes
// straight into its values, as many as are buffered, and runFor returns
// that request as into (see deliverInPlace): they are neither copied out
// of c.run nor cleared from it, 64 at a time. r.vals is written only by
// whoever reads the socket, and read by the caller once answered.
func (c *Conn) runFor() (dst []resp.Value, share bool, into *request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.pending.oldest(); r != nil && r.shape == shapeMany {
		if c.proto != 2 {
			return r.vals[r.got:], true, r
		}
		return c.run[:min(len(c.run), len(r.vals)-r.got)], true, nil
	}
	return c.run, false, nil
}

// deliverInPlace takes the n replies of a run that ReadRun decoded
// straight into r's values (see runFor), as deliverRun takes a DoMulti's,
// under Conn.mu, and answers r once they complete it. r is still the
// oldest request unless a teardown took the queue meanwhile: then the
// replies answer nothing.
func (c *Conn) deliverInPlace(r *request, n int, origin uint64) error {
	c.mu.Lock()
	if c.pending.oldest() != r {
		c.mu.Unlock()
		return fmt.Errorf("conn: %d replies that no command is waiting for: %w", n, resp.ErrProtocol)
	}
	if err := outOfStep(r, r.vals[r.got].Kind(), origin); err != nil {
		c.mu.Unlock()
		return err
	}
	r.got += n
	c.countReplies(r, n)
	complete := r.got == len(r.vals)
	if complete {
		c.pending.answered()
	}
	c.mu.Unlock()
	if complete {
		r.answer()
	}
	return nil
}

// countReplies counts the replies of a run that r took, n of them, as
// countReply counts one: a run holds no error replies (ReadRun takes none).
func (c *Conn) countReplies(r *request, n int) {
	if r.uncounted || r.state.Load() == requestAbandoned {
		return
	}
	c.counts.replies += uint64(n)
}
