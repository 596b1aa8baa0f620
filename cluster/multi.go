package cluster

import (
	"context"
	"strings"
	"sync"

	"github.com/respwire/respwire/resp"
)

// DoMulti sends many commands and returns their replies in the order of
// cmds. Commands are grouped by node and each node's group is written at
// once, the groups of different nodes concurrently. Every command follows its
// own redirects. A server error reply is returned as a reply (see
// resp.Value.Err), not as the error.
//
// DoMulti refuses the whole batch, unsent, when one of its commands has keys
// in different slots (ErrCrossSlot). When a node can't be reached or its
// connection breaks, the returned error says so and the reply slice still
// holds the replies that came back; the others are the zero Value.
//
// Transactions: a batch holding MULTI is sent as a whole to the node of the
// first command that names a key, so every key of a transaction must be in
// one slot (use a {hash tag}). A MOVED reply inside it sends the whole batch
// again to the new owner.
func (c *Client) DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	attempts := make([]attempt, len(cmds))
	txn, txnSlot := false, noSlot
	for i, args := range cmds {
		info, err := c.command(ctx, args)
		if err != nil {
			return nil, err
		}
		slot, cross := info.keySlot(args)
		if cross {
			return nil, crossSlot(args[0])
		}
		if strings.EqualFold(args[0], "MULTI") {
			txn = true
		}
		if txnSlot == noSlot {
			txnSlot = slot
		}
		toReplica := c.opts.ReadReplicas && info.readonly() && !info.blocking()
		attempts[i] = attempt{slot: slot, toReplica: toReplica}
	}
	if txn {
		return c.doTransaction(ctx, cmds, txnSlot)
	}
	return c.doBatches(ctx, cmds, attempts)
}

// batch is the commands of one round that go to one node.
type batch struct {
	target  *node
	indexes []int // into the attempts
}

// doBatches sends the attempts in rounds: each round groups what is still
// pending by node; redirected commands go on to the next round.
func (c *Client) doBatches(ctx context.Context, cmds [][]string, attempts []attempt) ([]resp.Value, error) {
	replies := make([]resp.Value, len(attempts))
	errs := make([]error, len(attempts))
	pending := make([]int, len(attempts))
	for i := range pending {
		pending[i] = i
	}
	var firstErr error
	for len(pending) > 0 {
		batches := c.group(attempts, pending)
		var wg sync.WaitGroup
		for _, b := range batches[1:] {
			wg.Go(func() { c.sendBatch(ctx, b, cmds, attempts, replies, errs) })
		}
		c.sendBatch(ctx, batches[0], cmds, attempts, replies, errs)
		wg.Wait()

		next, retries := pending[:0], 0
		for _, i := range pending {
			if errs[i] == nil {
				continue
			}
			a := &attempts[i]
			wait, stop := c.next(a, errs[i])
			if stop != nil {
				if _, isReply := stop.(*resp.Error); !isReply && firstErr == nil {
					firstErr = stop
				}
				continue
			}
			if wait {
				retries = max(retries, a.retries)
			}
			replies[i], errs[i] = resp.Value{}, nil
			next = append(next, i)
		}
		pending = next
		if len(pending) > 0 && retries > 0 {
			if err := c.backoff(ctx, retries); err != nil {
				return replies, err
			}
		}
	}
	return replies, firstErr
}

// group splits the pending attempts by the node they go to.
func (c *Client) group(attempts []attempt, pending []int) []*batch {
	t := c.table.Load()
	var batches []*batch
	for _, i := range pending {
		a := &attempts[i]
		if a.target == nil {
			a.target = t.pick(a.slot, a.toReplica)
		}
		var b *batch
		for _, have := range batches {
			if have.target == a.target {
				b = have
				break
			}
		}
		if b == nil {
			b = &batch{target: a.target}
			batches = append(batches, b)
		}
		b.indexes = append(b.indexes, i)
	}
	return batches
}

// sendBatch writes one node's commands at once (each ASK-redirected one
// preceded by ASKING) and files every reply, or the error, by index.
func (c *Client) sendBatch(ctx context.Context, b *batch, cmds [][]string, attempts []attempt, replies []resp.Value, errs []error) {
	fail := func(err error) {
		for _, i := range b.indexes {
			errs[i] = err
		}
	}
	if b.target == nil {
		fail(errNoNode)
		return
	}
	cl, err := c.clientOf(ctx, b.target)
	if err != nil {
		fail(err)
		return
	}
	send := make([][]string, 0, len(b.indexes))
	for _, i := range b.indexes {
		if attempts[i].asking {
			send = append(send, []string{"ASKING"})
		}
		send = append(send, cmds[i])
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
	for _, i := range b.indexes {
		if attempts[i].asking {
			at++
		}
		replies[i] = got[at]
		errs[i] = got[at].Err()
		at++
	}
}

// doTransaction sends a batch holding MULTI to the node of slot, as a whole,
// and again to the new owner when a queued command was MOVED.
func (c *Client) doTransaction(ctx context.Context, cmds [][]string, slot int) ([]resp.Value, error) {
	a := attempt{slot: slot}
	for {
		replies, err := c.sendWhole(ctx, &a, cmds)
		if err == nil {
			if err = movedReply(replies); err == nil {
				return replies, nil
			}
		}
		wait, stop := c.next(&a, err)
		if _, isReply := stop.(*resp.Error); isReply {
			return replies, nil // the caller sees the error replies, EXECABORT among them
		} else if stop != nil {
			return replies, stop
		}
		if wait {
			if err := c.backoff(ctx, a.retries); err != nil {
				return replies, err
			}
		}
	}
}

// sendWhole sends cmds to a's node in one write.
func (c *Client) sendWhole(ctx context.Context, a *attempt, cmds [][]string) ([]resp.Value, error) {
	cl, err := c.connFor(ctx, a)
	if err != nil {
		return nil, err
	}
	return cl.DoMulti(ctx, cmds...)
}

// movedReply returns the first MOVED error among replies.
func movedReply(replies []resp.Value) error {
	for _, v := range replies {
		if re, ok := v.Err().(*resp.Error); ok && re.Code == "MOVED" {
			return re
		}
	}
	return nil
}
