package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// ErrSlotMoved is wrapped by the error of a Dedicated call during which
// the server answered MOVED or ASK: the slot of its key moved (or is
// moving) to another node. Nothing was sent anywhere else: Dedicated never
// reroutes half way through a transaction. The routing already points to
// the new owner, so calling Dedicated again (with a fresh WATCH) goes
// there.
var ErrSlotMoved = errors.New("cluster: the key's slot moved during Dedicated; nothing was rerouted, call again")

// Dedicated runs fn with a connection of its own to the master that serves
// key's slot, as conn.Client.Dedicated does on one server: for WATCH, MULTI
// and EXEC, which can't go through the shared connections. Every key fn
// uses must be in key's slot (use a {hash tag}); the server answers the
// others with MOVED or CROSSSLOT.
//
// fn talks to that node directly: no redirect is followed inside it. If
// fn's error is (or wraps) a MOVED or ASK reply, as when the slot migrated
// between WATCH and EXEC, Dedicated records the new owner and returns an
// error wrapping both ErrSlotMoved and the reply; the caller retries the
// whole function. Otherwise it returns fn's error, or the error of reaching
// the node (naming it).
func (c *Client) Dedicated(ctx context.Context, key string, fn func(*conn.Conn) error) error {
	if c.closed.Load() {
		return errClosed
	}
	slot := int(slots.Slot(key))
	a := &attempt{slot: slot}
	for {
		cl, err := c.connFor(ctx, a)
		if err != nil {
			wait, stop := c.next(ctx, a, "", err) // not a reply: no redirect to name
			if stop != nil {
				return stop
			}
			if wait {
				if berr := c.backoff(ctx, a.retries); berr != nil {
					return withCause(berr, err)
				}
			}
			continue
		}
		n := a.target
		err = cl.Dedicated(ctx, fn)
		n.release()
		var re *resp.Error
		if errors.As(err, &re) && (re.Code == "MOVED" || re.Code == "ASK") {
			if s, addr, ok := parseRedirect(re.Message, n); ok && re.Code == "MOVED" {
				c.moved(s, addr)
			} else {
				c.triggerRefresh(RefreshRedirect)
			}
			return fmt.Errorf("%w: %w", ErrSlotMoved, err)
		}
		if err != nil {
			var ce *callError
			if errors.Is(err, conn.ErrClosed) && !errors.As(err, &ce) {
				err = failedOn(n, err)
			}
		}
		return err
	}
}
