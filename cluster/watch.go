package cluster

import (
	"context"
	"errors"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// Watch runs fn on a dedicated connection to the master of the keys' slot,
// after WATCH keys on it, for a check-and-set transaction (see
// conn.Universal). The keys must share a slot (ErrCrossSlot otherwise,
// before anything is sent); with no keys the connection is to any master.
// fn's commands go to that one node, so they must stay in the slot too. A
// WATCH answered MOVED (the slot moved since the topology was read) is sent
// to the new owner before fn runs; once fn has run, Watch returns its
// error, and never runs it twice.
func (c *Client) Watch(ctx context.Context, fn func(tx conn.Doer) error, keys ...string) error {
	if c.closed.Load() {
		return errClosed
	}
	slot := noSlot
	for _, k := range keys {
		s := int(slots.Slot(k))
		if slot != noSlot && s != slot {
			return crossSlot("WATCH")
		}
		slot = s
	}
	a := &attempt{slot: slot}
	for {
		if a.target == nil {
			a.target = c.table.Load().pick(a.slot, false)
		}
		var cl *conn.Client
		err := errNoNode
		if a.target != nil {
			cl, err = c.clientOf(ctx, a.target)
		}
		ran := false
		if err == nil {
			err = cl.Dedicated(ctx, func(cn *conn.Conn) error {
				if len(keys) > 0 {
					if _, err := cn.DoCmd(ctx, conn.Cmd("WATCH", keys...)); err != nil {
						return err
					}
				}
				ran = true
				return fn(cn)
			})
		}
		if ran || err == nil {
			return err
		}
		wait, stop := c.next(ctx, a, "WATCH", err)
		if stop != nil {
			return stop
		}
		var re *resp.Error
		if a.asking && errors.As(err, &re) {
			return err // ASK: the slot is migrating; WATCH can't follow a key half moved
		}
		if wait {
			if err := c.backoff(ctx, a.retries); err != nil {
				return err
			}
		}
	}
}
