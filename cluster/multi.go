package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/respwire/respwire/resp"
)

// DoMulti sends many commands and returns their replies in the order of
// cmds. Commands are grouped by node and each node's group is written at
// once, the groups of different nodes concurrently. Every command follows its
// own redirects: a batch is never sent again as a whole because one of its
// commands was redirected. A server error reply is returned as a reply (see
// resp.Value.Err), not as the error.
//
// DoMulti refuses the whole batch, unsent, when one of its commands has keys
// in different slots, or a transaction's commands do (both wrap
// ErrCrossSlot), and when a MULTI has no EXEC or DISCARD after it. When a
// node can't be reached or its connection breaks, the returned error names
// the node and says why, and the reply slice still holds the replies that
// came back; the others are the zero Value.
//
// Transactions: MULTI, the commands after it and the EXEC (or DISCARD) that
// ends it go as one piece, in one write, to the node of their keys' slot, so
// every key of a transaction must be in one slot (use a {hash tag}). A
// transaction runs at most once. It is sent again, whole, only when the node
// refused it without running it: its EXEC answered MOVED, ASK, TRYAGAIN,
// CLUSTERDOWN or LOADING, or answered EXECABORT because a queued command got
// one of those. Then it follows that redirect (ASKING goes before MULTI) or
// retries after a backoff, as a single command does.
func (c *Client) DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	units, err := c.units(ctx, cmds)
	if err != nil {
		return nil, err
	}
	return c.doUnits(ctx, cmds, units)
}

// unit is what DoMulti routes as one: a single command, or a transaction
// (MULTI, the commands it queues and the EXEC or DISCARD that ends it),
// which goes to one node in one piece.
type unit struct {
	attempt
	first, n int // the commands cmds[first : first+n]
	txn      bool
	fanout   *commandInfo // a command that goes to several nodes (fanout.go), run on its own
}

// units splits cmds into units and finds each one's slot. It refuses a
// cross-slot command or transaction and an unterminated MULTI.
func (c *Client) units(ctx context.Context, cmds [][]string) ([]unit, error) {
	units := make([]unit, 0, len(cmds))
	for i := 0; i < len(cmds); {
		if isCommand(cmds[i], "MULTI") {
			u, err := c.transaction(ctx, cmds, i)
			if err != nil {
				return nil, err
			}
			units = append(units, u)
			i += u.n
			continue
		}
		info, err := c.command(ctx, cmds[i])
		if err != nil {
			return nil, err
		}
		info = info.resolve(cmds[i])
		slot, cross := info.keySlot(cmds[i])
		if info.request != requestDefault && info.fansOut(cmds[i], slot, cross) {
			units = append(units, unit{first: i, n: 1, fanout: info})
			i++
			continue
		}
		if cross {
			return nil, crossSlot(cmds[i][0])
		}
		toReplica := c.opts.ReadReplicas && info.readonly() && !info.blocking()
		units = append(units, unit{attempt: attempt{slot: slot, toReplica: toReplica}, first: i, n: 1})
		i++
	}
	return units, nil
}

// transaction reads the transaction whose MULTI is cmds[start], up to the
// first EXEC or DISCARD after it.
func (c *Client) transaction(ctx context.Context, cmds [][]string, start int) (unit, error) {
	slot := noSlot
	for i := start + 1; i < len(cmds); i++ {
		if isCommand(cmds[i], "EXEC") || isCommand(cmds[i], "DISCARD") {
			return unit{attempt: attempt{slot: slot}, first: start, n: i - start + 1, txn: true}, nil
		}
		info, err := c.command(ctx, cmds[i])
		if err != nil {
			return unit{}, err
		}
		s, cross := info.keySlot(cmds[i])
		if cross || (s != noSlot && slot != noSlot && s != slot) {
			return unit{}, fmt.Errorf("%w (the transaction that begins at command %d, in %s)", ErrCrossSlot, start, cmds[i][0])
		}
		if s != noSlot {
			slot = s
		}
	}
	return unit{}, fmt.Errorf("cluster: the MULTI at command %d has no EXEC or DISCARD after it in the batch", start)
}

// isCommand reports whether args is the command name, in any case.
func isCommand(args []string, name string) bool {
	return len(args) > 0 && strings.EqualFold(args[0], name)
}

// batch is the units of one round that go to one node.
type batch struct {
	target *node
	units  []int // into the units
	size   int   // how many units it gets, while group counts them
}

// doUnits runs the units in the batch's order as each node sees it: the
// units up to a fanned-out command go first (in rounds, see rounds), then
// the fanned-out command on its own, then the units after it. So a SET
// followed by an MGET of the same key in one batch reads what it wrote. It
// returns the first error that ended a unit other than a server reply.
func (c *Client) doUnits(ctx context.Context, cmds [][]string, units []unit) ([]resp.Value, error) {
	replies := make([]resp.Value, len(cmds))
	errs := make([]error, len(units))
	pending := make([]int, 0, len(units))
	var firstErr error
	keep := func(err error) {
		if _, isReply := err.(*resp.Error); !isReply && err != nil && firstErr == nil {
			firstErr = err
		}
	}
	flush := func() {
		if len(pending) > 0 {
			keep(c.rounds(ctx, cmds, units, pending, replies, errs))
			pending = pending[:0]
		}
	}
	for i := range units {
		u := &units[i]
		if u.fanout == nil {
			pending = append(pending, i)
			continue
		}
		flush()
		v, err := c.doFannedOut(ctx, u.fanout, cmds[u.first])
		replies[u.first] = v
		keep(err)
	}
	flush()
	return replies, firstErr
}

// rounds sends the pending units in rounds: each round groups what is
// still pending by node; redirected or retried units go on to the next
// round, each on its own. It returns the first error that ended a unit
// other than a server reply.
func (c *Client) rounds(ctx context.Context, cmds [][]string, units []unit, pending []int, replies []resp.Value, errs []error) error {
	var firstErr error
	for len(pending) > 0 {
		batches := c.group(units, pending)
		var wg sync.WaitGroup
		for j := range batches[1:] {
			b := &batches[1+j]
			wg.Add(1)
			c.runBatch(func() {
				defer wg.Done()
				c.sendBatch(ctx, b, cmds, units, replies, errs)
			})
		}
		c.sendBatch(ctx, &batches[0], cmds, units, replies, errs)
		wg.Wait()

		next, retries := pending[:0], 0
		var lastCause error
		for _, i := range pending {
			if errs[i] == nil {
				continue
			}
			u := &units[i]
			wait, stop := c.next(ctx, &u.attempt, cmds[u.first][0], errs[i])
			if stop != nil {
				if _, isReply := stop.(*resp.Error); !isReply && firstErr == nil {
					firstErr = stop
				}
				continue
			}
			if wait {
				retries = max(retries, u.retries)
				lastCause = u.cause
			}
			clear(replies[u.first : u.first+u.n])
			errs[i] = nil
			next = append(next, i)
		}
		pending = next
		if len(pending) > 0 && retries > 0 {
			if err := c.backoff(ctx, retries); err != nil {
				return withCause(err, lastCause)
			}
		}
	}
	return firstErr
}

// group splits the pending units by the node they go to, in two passes so
// that every batch's units are a window of one array: a few allocations,
// whatever the number of units.
func (c *Client) group(units []unit, pending []int) []batch {
	t := c.table.Load()
	var batches []batch
	for _, i := range pending {
		u := &units[i]
		if u.target == nil {
			u.target = t.pick(u.slot, u.toReplica)
		}
		b := batchOf(batches, u.target)
		if b == nil {
			batches = append(batches, batch{target: u.target})
			b = &batches[len(batches)-1]
		}
		b.size++
	}
	all, at := make([]int, len(pending)), 0
	for j := range batches {
		b := &batches[j]
		b.units = all[at : at : at+b.size]
		at += b.size
	}
	for _, i := range pending {
		b := batchOf(batches, units[i].target)
		b.units = append(b.units, i)
	}
	return batches
}

// batchOf returns the batch of batches that goes to target, or nil.
func batchOf(batches []batch, target *node) *batch {
	for j := range batches {
		if batches[j].target == target {
			return &batches[j]
		}
	}
	return nil
}

// askingCmd goes before a command (or a whole transaction) that follows an
// ASK redirect.
var askingCmd = []string{"ASKING"}

// sendBatch writes one node's units at once (each ASK-redirected one
// preceded by ASKING) and files every reply by position, and by unit the
// error to follow, if any.
func (c *Client) sendBatch(ctx context.Context, b *batch, cmds [][]string, units []unit, replies []resp.Value, errs []error) {
	fail := func(err error) {
		for _, i := range b.units {
			errs[i] = err
		}
	}
	if b.target == nil {
		fail(errNoNode)
		return
	}
	cl, err := c.enter(ctx, b.target)
	if err != nil {
		fail(err)
		return
	}
	defer b.target.release()
	size := len(b.units)
	for _, i := range b.units {
		size += units[i].n - 1
	}
	send := make([][]string, 0, size)
	for _, i := range b.units {
		u := &units[i]
		if u.asking {
			send = append(send, askingCmd)
		}
		send = append(send, cmds[u.first:u.first+u.n]...)
	}
	got, err := cl.DoMulti(ctx, send...)
	if err != nil {
		fail(err)
		return
	}
	if len(got) != len(send) {
		fail(errReplyCount)
		return
	}
	at := 0
	for _, i := range b.units {
		u := &units[i]
		if u.asking {
			at++
		}
		part := got[at : at+u.n]
		copy(replies[u.first:], part)
		if u.txn {
			errs[i] = refusedUnrun(part)
		} else {
			errs[i] = part[0].Err()
		}
		at += u.n
	}
}
