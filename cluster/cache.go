package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// setupCache gives every node connection one shared conn.Cache, so that
// Options.Conn's bound (CacheMaxBytes) is the bound of the whole cluster's
// cache, unless caching is off or Options.Conn.Cache names a Cache already.
func (c *Client) setupCache() {
	if c.nodeOpts.DisableCache {
		return
	}
	if c.nodeOpts.Cache == nil {
		c.nodeOpts.Cache = conn.NewCache(c.nodeOpts.CacheMaxBytes)
	}
	c.cache = c.nodeOpts.Cache
}

// CacheStats returns the counters of the cache that every node shares; zero
// when caching is off.
func (c *Client) CacheStats() conn.CacheStats {
	if c.cache == nil {
		return conn.CacheStats{}
	}
	return c.cache.Stats()
}

// tableChanged drops the cache entries of the slots whose master is no
// longer the one that served them in old.
func (c *Client) tableChanged(old, next *routeTable) {
	if c.cache == nil || old == nil {
		return
	}
	var moved []uint16
	for slot := range old.slots {
		was, now := old.slots[slot], next.slots[slot]
		if was != nil && (now == nil || now.master != was.master) {
			moved = append(moved, uint16(slot))
		}
	}
	c.cache.DropSlots(moved)
}

// DoCache returns the reply to a read-only command with keys from the
// client-side cache, or reads it from the master that serves its slot and
// caches it there, as conn.Client.DoCache does on one server: the master's
// connection tracks the keys read through it. Reads always go to masters,
// also with ReadReplicas. A MOVED reply is followed, cached at the new
// owner; an ASK reply (a slot being migrated) is followed with ASKING and
// the command, read through without caching. When the routing moves a slot
// to another master, the slot's entries are dropped. A command whose keys
// hash to different slots is refused with ErrCrossSlot.
func (c *Client) DoCache(ctx context.Context, ttl time.Duration, args ...string) (resp.Value, error) {
	info, err := c.command(ctx, args)
	if err != nil {
		return resp.Value{}, err
	}
	slot, cross := info.keySlot(args)
	if cross {
		return resp.Value{}, crossSlot(args[0])
	}
	if n := c.table.Load().pick(slot, false); n != nil {
		if cl := n.client.Load(); cl != nil && n.acquire() {
			if err := c.checkConnected(n, cl); err != nil {
				n.release()
				return resp.Value{}, err
			}
			v, err := cl.DoCache(ctx, ttl, args...)
			n.release()
			if err == nil {
				return v, nil
			}
			return c.followCache(ctx, &attempt{slot: slot, target: n}, ttl, args, v, err)
		}
	}
	a := &attempt{slot: slot}
	v, err := c.sendCache(ctx, a, ttl, args)
	return c.followCache(ctx, a, ttl, args, v, err)
}

// sendCache makes one try of a cached read: DoCache on a's target, or for
// an ASK redirect ASKING and the command, uncached.
func (c *Client) sendCache(ctx context.Context, a *attempt, ttl time.Duration, args []string) (resp.Value, error) {
	if a.asking {
		return c.send(ctx, a, args)
	}
	cl, err := c.connFor(ctx, a)
	if err != nil {
		return resp.Value{}, err
	}
	defer a.target.release()
	return cl.DoCache(ctx, ttl, args...)
}

// followCache is follow for cached reads.
func (c *Client) followCache(ctx context.Context, a *attempt, ttl time.Duration, args []string, v resp.Value, err error) (resp.Value, error) {
	for err != nil {
		wait, stop := c.next(ctx, a, args[0], err)
		if stop != nil {
			return v, stop
		}
		if wait {
			if stop := c.backoff(ctx, a.retries); stop != nil {
				return v, stop
			}
		}
		v, err = c.sendCache(ctx, a, ttl, args)
	}
	return v, nil
}

// DoMultiCache is DoCache for many commands: the commands are grouped by
// the master of their slot, and each group goes to that master's
// conn.Client.DoMultiCache, which answers its hits locally and writes its
// misses at once; the groups of different masters run concurrently. Replies
// come back in the order of cmds; a command whose reply is a redirect (or
// whose group failed) follows it on its own, as DoCache does. Server error
// replies stay in the values. Any command with keys in different slots
// refuses the whole call, unsent (ErrCrossSlot).
func (c *Client) DoMultiCache(ctx context.Context, ttl time.Duration, cmds ...[]string) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	slotOf := make([]int, len(cmds))
	for i, args := range cmds {
		info, err := c.command(ctx, args)
		if err != nil {
			return nil, err
		}
		slot, cross := info.keySlot(args)
		if cross {
			return nil, crossSlot(args[0])
		}
		slotOf[i] = slot
	}
	t := c.table.Load()
	groups := make(map[*node][]int)
	var order []*node
	var alone []int // no known owner: each follows its own way
	for i, slot := range slotOf {
		n := t.pick(slot, false)
		if n == nil {
			alone = append(alone, i)
			continue
		}
		if _, ok := groups[n]; !ok {
			order = append(order, n)
		}
		groups[n] = append(groups[n], i)
	}
	vals := make([]resp.Value, len(cmds))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range order {
		wg.Go(func() {
			redo := c.multiCacheGroup(ctx, n, ttl, cmds, groups[n], vals)
			mu.Lock()
			alone = append(alone, redo...)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, i := range alone {
		v, err := c.DoCache(ctx, ttl, cmds[i]...)
		if err != nil {
			if _, isReply := err.(*resp.Error); !isReply {
				return nil, err
			}
		}
		vals[i] = v
	}
	return vals, nil
}

// multiCacheGroup sends the commands at indexes to n's DoMultiCache and
// fills vals with their replies; it returns the indexes that must be tried
// again on their own: all of them when the group failed, else those
// answered with a redirect.
func (c *Client) multiCacheGroup(ctx context.Context, n *node, ttl time.Duration, cmds [][]string, indexes []int, vals []resp.Value) []int {
	cl, err := c.enter(ctx, n)
	if err != nil {
		return indexes
	}
	defer n.release()
	group := make([][]string, len(indexes))
	for j, i := range indexes {
		group[j] = cmds[i]
	}
	replies, err := cl.DoMultiCache(ctx, ttl, group...)
	if err != nil {
		return indexes
	}
	var redo []int
	for j, i := range indexes {
		if isRedirect(replies[j]) {
			redo = append(redo, i)
			continue
		}
		vals[i] = replies[j]
	}
	return redo
}

// isRedirect reports whether v is a MOVED or ASK error reply, or one that
// asks to try again later.
func isRedirect(v resp.Value) bool {
	var re *resp.Error
	if err := v.Err(); err != nil {
		re, _ = err.(*resp.Error)
	}
	if re == nil {
		return false
	}
	switch re.Code {
	case "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "LOADING":
		return true
	}
	return false
}
