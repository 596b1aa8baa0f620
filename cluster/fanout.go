package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// fansOut reports whether the command args, whose metadata is info (a
// subcommand's when it has one) and whose keys are in slot (cross: in
// several), goes to more than one node by its tips: a keyless command
// whose request policy is all_shards or all_nodes, or a multi_shard one
// whose keys span slots and that can be split (see splittable).
func (ci *commandInfo) fansOut(args []string, slot int, cross bool) bool {
	switch ci.request {
	case requestAllShards, requestAllNodes:
		return slot == noSlot
	case requestMultiShard:
		if !cross {
			return false
		}
		_, _, ok := ci.splittable(args)
		return ok
	}
	return false
}

// doFannedOut runs a command for which fansOut is true.
func (c *Client) doFannedOut(ctx context.Context, info *commandInfo, args []string) (resp.Value, error) {
	// A copy goes to the goroutines, so that Do's arguments never leave
	// the caller's stack: the routing of other calls stays allocation-free.
	return c.fanOut(ctx, info, slices.Clone(args))
}

// fanOut is doFannedOut on arguments of its own.
func (c *Client) fanOut(ctx context.Context, info *commandInfo, args []string) (resp.Value, error) {
	if info.request == requestMultiShard {
		return c.doSplit(ctx, info, args)
	}
	t := c.table.Load()
	var targets []*node
	if info.request == requestAllNodes {
		targets = t.allNodes()
	} else {
		targets = t.masters()
	}
	if len(targets) == 0 {
		return resp.Value{}, errNoNode
	}
	replies := make([]resp.Value, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, n := range targets[1:] {
		wg.Go(func() { replies[i+1], errs[i+1] = c.doOn(ctx, n, args) })
	}
	replies[0], errs[0] = c.doOn(ctx, targets[0], args)
	wg.Wait()

	addrs := make([]string, len(targets))
	for i, n := range targets {
		addrs[i] = n.addr
	}
	var failed error
	for i, err := range errs {
		var re *resp.Error
		if err != nil && !errors.As(err, &re) {
			if info.response == responseOneSucceeded {
				replies[i] = resp.NewSimpleError("ERR " + err.Error()) // only used if every node failed
				continue
			}
			if failed == nil {
				failed = err // it names the node
			}
		}
	}
	if failed != nil {
		return resp.Value{}, failed
	}
	v := merge(info.response, replies, addrs)
	return v, v.Err()
}

// doOn sends args to the node n only: no redirect is followed. An error
// that is not the server's reply names n.
func (c *Client) doOn(ctx context.Context, n *node, args []string) (resp.Value, error) {
	cl, err := c.enter(ctx, n)
	if err != nil {
		return resp.Value{}, failedOn(n, err)
	}
	defer n.release()
	v, err := cl.Do(ctx, args...)
	if err == nil {
		return v, nil
	}
	var re *resp.Error
	if errors.As(err, &re) {
		return v, err
	}
	if brokenNode(err) {
		c.suspect(n, err)
		n.noteFailure(err)
	}
	return v, failedOn(n, err)
}

// splitPart is the command of one slot in a split multi_shard command.
type splitPart struct {
	cmd  []string
	keys []int // the ordinals, in the caller's command, of its keys
}

// doSplit runs a multi_shard command whose keys span slots as one command
// per slot (all sent at once with DoMulti, so grouped by node and each
// following its own redirects), then merges the replies: with no response
// policy (MGET), one array in the caller's key order; otherwise by the
// policy (agg_sum for DEL, all_succeeded for MSET).
func (c *Client) doSplit(ctx context.Context, info *commandInfo, args []string) (resp.Value, error) {
	first, step, _ := info.splittable(args)
	keys := (len(args) - first) / step
	// The keys sorted by slot, each as its slot above its ordinal, so that
	// every part's keys come together without a map; then every part's
	// command and key list are windows of one array each: a few
	// allocations, whatever the number of slots.
	bySlot := make([]uint64, keys)
	for k := range keys {
		bySlot[k] = uint64(slots.Slot(args[first+k*step]))<<32 | uint64(k)
	}
	slices.Sort(bySlot)
	nparts := 0
	for i, sk := range bySlot {
		if i == 0 || sk>>32 != bySlot[i-1]>>32 {
			nparts++
		}
	}
	parts := make([]splitPart, 0, nparts)
	flat := make([]string, 0, nparts*first+keys*step) // never grown: the parts are windows of it
	ordinals := make([]int, keys)
	begin := 0 // where the latest part's command begins in flat
	for i, sk := range bySlot {
		if i == 0 || sk>>32 != bySlot[i-1]>>32 {
			begin = len(flat)
			flat = append(flat, args[:first]...)
			parts = append(parts, splitPart{keys: ordinals[i:i]})
		}
		k := int(uint32(sk))
		flat = append(flat, args[first+k*step:first+(k+1)*step]...)
		p := &parts[len(parts)-1]
		p.cmd = flat[begin:len(flat):len(flat)]
		p.keys = append(p.keys, k) // ordinals[i]: the parts' keys are in sorted order
	}
	cmds := make([][]string, len(parts))
	for i := range parts {
		cmds[i] = parts[i].cmd
	}
	replies, err := c.DoMulti(ctx, cmds...)
	if err != nil {
		return resp.Value{}, err
	}
	if info.response != responseDefault {
		v := merge(info.response, replies, nil)
		return v, v.Err()
	}
	out := make([]resp.Value, keys)
	for i, p := range parts {
		r := replies[i]
		if err := r.Err(); err != nil {
			return r, err
		}
		elems := r.Elems()
		if len(elems) != len(p.keys) {
			return resp.Value{}, fmt.Errorf("cluster: %s: %d replies for %d keys of a slot", info.name, len(elems), len(p.keys))
		}
		for k, ordinal := range p.keys {
			out[ordinal] = elems[k]
		}
	}
	return resp.ArrayOf(out), nil
}
