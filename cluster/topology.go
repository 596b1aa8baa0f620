package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// askAtOnce is how many nodes are asked for the topology at the same time.
const askAtOnce = 3

// errNoSlots is returned for a node that answers but serves no slot yet
// (a node that hasn't joined the cluster).
var errNoSlots = errors.New("cluster: node knows no slot owner")

// askTopology reads the topology from one node: CLUSTER SHARDS (Redis 7.0),
// or CLUSTER SLOTS when the server refuses it with any error reply: "unknown
// subcommand" from a server older than 7.0, NOPERM for an ACL user denied
// it, or anything else. After such a refusal the Client asks CLUSTER SLOTS
// only.
func (c *Client) askTopology(ctx context.Context, n *node) (*slots.Topology, error) {
	cl, err := c.enter(ctx, n)
	if err != nil {
		return nil, err
	}
	defer n.release()
	var topo *slots.Topology
	if !c.noShards.Load() {
		v, err := cl.Do(ctx, "CLUSTER", "SHARDS")
		var re *resp.Error
		switch {
		case errors.As(err, &re):
			c.noShards.Store(true)
		case err != nil:
			return nil, fmt.Errorf("cluster: CLUSTER SHARDS on %s: %w", n.addr, err)
		default:
			if topo, err = slots.ParseClusterShards(v, n.addr); err != nil {
				return nil, fmt.Errorf("cluster: CLUSTER SHARDS on %s: %w", n.addr, err)
			}
		}
	}
	if topo == nil {
		v, err := cl.Do(ctx, "CLUSTER", "SLOTS")
		if err != nil {
			return nil, fmt.Errorf("cluster: CLUSTER SLOTS on %s: %w", n.addr, err)
		}
		if topo, err = slots.ParseClusterSlots(v, n.addr); err != nil {
			return nil, fmt.Errorf("cluster: CLUSTER SLOTS on %s: %w", n.addr, err)
		}
	}
	if topo.Covered() == 0 {
		return nil, fmt.Errorf("%w (%s)", errNoSlots, n.addr)
	}
	return topo, nil
}

// fetchTopology asks the given addresses, atOnce at a time, and returns
// the first good answer and the node that gave it. It waits for every
// question it started before returning.
func (c *Client) fetchTopology(ctx context.Context, addrs []string, atOnce int) (*slots.Topology, *node, error) {
	type answer struct {
		topo *slots.Topology
		n    *node
		err  error
	}
	var errs []error
	for len(addrs) > 0 {
		wave := addrs[:min(atOnce, len(addrs))]
		addrs = addrs[len(wave):]
		waveCtx, cancel := context.WithCancel(ctx)
		answers := make(chan answer, len(wave))
		var wg sync.WaitGroup
		for _, addr := range wave {
			n := c.nodes.get(addr)
			wg.Go(func() {
				topo, err := c.askTopology(waveCtx, n)
				answers <- answer{topo, n, err}
			})
		}
		var won *answer
		for range wave {
			a := <-answers
			if a.err == nil {
				won = &a
				cancel()
				break
			}
			errs = append(errs, a.err)
		}
		cancel()
		wg.Wait()
		if won != nil {
			return won.topo, won.n, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return nil, nil, fmt.Errorf("cluster: no node answered with the topology: %w", errors.Join(errs...))
}

// refreshAddrs lists whom to ask: the known nodes in random order, masters
// first, then the seeds.
func (c *Client) refreshAddrs() []string {
	var addrs []string
	seen := make(map[string]bool)
	add := func(list []string) {
		rand.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
		for _, a := range list {
			if !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
	}
	if t := c.table.Load(); t != nil {
		var masters, replicas []string
		for _, s := range t.shards {
			masters = append(masters, s.master.addr)
			for _, r := range s.replicas {
				replicas = append(replicas, r.addr)
			}
		}
		add(masters)
		add(replicas)
	}
	add(append([]string(nil), c.opts.Addrs...))
	return addrs
}

// install makes topo the routing table and retires the nodes it dropped
// (they close once their calls in flight are answered). The nodes are
// dropped under tableMu, which moved holds too: a MOVED to a dropped
// address, after this, gets a new node rather than the retired one. It
// returns what changed since the previous install.
func (c *Client) install(topo *slots.Topology) tableDiff {
	c.tableMu.Lock()
	old := c.table.Load()
	t := newRouteTable(topo, &c.nodes)
	c.table.Store(t)
	diff := diffTables(c.installed, t)
	c.installed = t
	gone := c.nodes.drop(t.addrs())
	c.tableChanged(old, t) // client-side caching: moved slots' entries go
	c.tableMu.Unlock()
	if hook := c.afterInstall.Load(); hook != nil {
		(*hook)()
	}
	for _, n := range gone {
		n.retire()
	}
	c.nodes.sweep()
	return diff
}

// moved records that slot now belongs to the master at addr, at once; the
// refresh it triggers fills in the rest.
func (c *Client) moved(slot int, addr string) {
	c.tableMu.Lock()
	t := c.table.Load()
	if s := t.slots[slot]; s == nil || s.master.addr != addr {
		next := t.withSlot(slot, addr, &c.nodes)
		c.table.Store(next)
		c.tableChanged(t, next) // client-side caching: the slot's entries go
	}
	c.tableMu.Unlock()
	c.triggerRefresh(RefreshRedirect)
}
