package conn

import (
	"context"
	"errors"

	"github.com/respwire/respwire/resp"
)

// barrierToken is the argument of the PING that Send writes after its
// command; the PING's reply, a bulk string holding it, marks the end of
// whatever the command caused.
const barrierToken = "respwire:send-barrier"

var errSendNeedsRESP3 = errors.New("conn: Send needs RESP3 push frames; this connection speaks RESP2")

// Send writes a command that is answered by push frames rather than a reply:
// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs. It writes the
// command and a PING barrier together, so when Send returns every push frame
// the command caused has already been handed to Options.OnPush. An in-band
// error reply to the command is returned as a *resp.Error.
//
// Send needs RESP3: on a RESP2 connection it returns an error and sends
// nothing, because RESP2 answers subscribe commands with ordinary arrays.
func (c *Conn) Send(ctx context.Context, args ...string) error {
	if len(args) == 0 {
		return errEmptyCommand
	}
	if c.proto != 3 {
		return errSendNeedsRESP3
	}
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

// isBarrier reports whether v is the reply to Send's PING.
func isBarrier(v resp.Value) bool {
	if v.Kind() != resp.BulkString {
		return false
	}
	s, err := v.Text()
	return err == nil && s == barrierToken
}
