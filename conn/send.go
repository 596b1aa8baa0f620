package conn

import (
	"context"
	"strings"

	"github.com/respwire/respwire/resp"
)

// barrierChannel is the channel of the UNSUBSCRIBE that Send writes after
// its command; its confirmation, a push frame, marks the end of whatever the
// command caused. It is a barrier every state that takes a subscribe
// command answers: UNSUBSCRIBE is a @pubsub command (so an ACL user allowed
// only pub/sub may run it, and its channel is not checked against the user's
// channel patterns), it runs while the server loads and on a stale replica,
// and RESP2 subscribe mode allows it. Unsubscribing from a channel nobody
// subscribed to changes nothing.
const barrierChannel = "respwire:send-barrier"

// Send writes a command that is answered by push frames rather than a reply:
// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs. It writes the
// command and a barrier together (UNSUBSCRIBE of a channel of its own, whose
// confirmation the Conn keeps to itself), so when Send returns every push
// frame the command caused has already been handed to Options.OnPush. An
// in-band error reply to the command is returned as a *resp.Error.
//
// The server answers the command with push frames when it takes it, with
// one error reply when it refuses it; the barrier likewise. So an error
// reply that comes after a confirmation of the command's kind, or after an
// error already taken, is the barrier's: Send then returns without waiting
// for the barrier's confirmation, and a confirmation that comes later
// anyway is dropped. No reply of either can wedge the Conn. (A SUNSUBSCRIBE
// refused while the server pushes a sunsubscribe of its own, for a moved
// slot, is the one case read as taken: Send returns nil.)
//
// On a RESP2 connection, where subscribe confirmations and messages are
// plain arrays, the Conn recognises them while it is in subscribe mode (or a
// Send waits for them) and hands them to OnPush as push frames shaped as
// RESP3 would send them. In RESP2 subscribe mode the server refuses every
// command but the subscribe family, PING, QUIT and RESET; PING answers with
// an array ["pong", message].
func (c *Conn) Send(ctx context.Context, args ...string) error {
	if len(args) == 0 {
		return errEmptyCommand
	}
	c.carriesState.Store(true) // a subscription, or its end: pubsub state either way
	if ended(ctx) {
		return c.ctxEnded(ctx)
	}
	r := c.getRequest(shapeBarrier)
	r.command = args[0]
	if err := c.lock(ctx, r); err != nil {
		recycle(r)
		return err
	}
	c.wbuf = resp.AppendCommand(c.wbuf, args...)
	c.wbuf = resp.AppendCommand(c.wbuf, "UNSUBSCRIBE", barrierChannel)
	c.unlock(r)
	if err := c.wait(ctx, r, nil); err != nil {
		return err
	}
	err := r.val.Err()
	recycle(r)
	return err
}

// sendPushed sees a subscribe-family confirmation before it goes to OnPush
// (kind is its first element, lower-cased): the barrier's confirmation ends
// the Send waiting at the head of the queue, and is kept from OnPush (it
// reports true); a confirmation of the command's kind while a Send waits
// tells that its command was taken (see request.take).
func (c *Conn) sendPushed(kind string, v resp.Value) bool {
	barrier := kind == "unsubscribe" && isBarrierChannel(v)
	c.mu.Lock()
	r := c.pending.oldest()
	if r == nil || r.shape != shapeBarrier {
		c.mu.Unlock()
		return barrier // a late barrier, of a Send that ended on an error
	}
	if !barrier {
		// Only a confirmation of the command's own kind: the server
		// pushes sunsubscribe by itself when a slot moves.
		if strings.EqualFold(kind, r.command) {
			r.confirmed = true
		}
		c.mu.Unlock()
		return false
	}
	c.pending.answered()
	c.mu.Unlock()
	r.answer()
	return true
}

// isBarrierChannel reports whether the confirmation v (3 elements) names
// barrierChannel.
func isBarrierChannel(v resp.Value) bool {
	name, err := v.Elems()[1].Text()
	return err == nil && name == barrierChannel
}
