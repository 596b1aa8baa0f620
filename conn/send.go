package conn

import (
	"context"

	"github.com/respwire/respwire/resp"
)

// barrierToken is the argument of the PING that Send writes after its
// command; the PING's reply, a bulk string holding it, marks the end of
// whatever the command caused.
const barrierToken = "respwire:send-barrier"

// Send writes a command that is answered by push frames rather than a reply:
// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs. It writes the
// command and a PING barrier together, so when Send returns every push frame
// the command caused has already been handed to Options.OnPush. An in-band
// error reply to the command is returned as a *resp.Error.
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
		return ctx.Err()
	}
	r := c.getRequest(shapeBarrier)
	if err := c.lock(r); err != nil {
		recycle(r)
		return err
	}
	c.wbuf = resp.AppendCommand(c.wbuf, args...)
	c.wbuf = resp.AppendCommand(c.wbuf, "PING", barrierToken)
	c.unlock(r)
	if err := c.wait(ctx, r); err != nil {
		return err
	}
	err := r.val.Err()
	recycle(r)
	return err
}

// isBarrier reports whether v is the reply to Send's PING: the token, or in
// RESP2 subscribe mode the array ["pong", token].
func isBarrier(v resp.Value) bool {
	if v.Kind() == resp.Array && len(v.Elems()) == 2 {
		if kind, _ := v.Elems()[0].Text(); kind == "pong" {
			v = v.Elems()[1]
		}
	}
	if v.Kind() != resp.BulkString {
		return false
	}
	s, err := v.Text()
	return err == nil && s == barrierToken
}
