package cluster

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/respwire/respwire/slots"
)

// ReplicaPolicy is how, with Options.ReadReplicas, a read-only command
// chooses among the online replicas of its slot's shard.
type ReplicaPolicy int

const (
	// ReplicaRandom picks a replica at random for each command (the
	// default).
	ReplicaRandom ReplicaPolicy = iota
	// ReplicaLowestLatency sends every read of a shard to the replica with
	// the lowest measured round-trip time: each replica is PINGed after
	// each topology refresh (so about every RefreshInterval), and the times
	// are smoothed.
	ReplicaLowestLatency
)

// ReplicaSelector chooses, for one shard, the node that serves its reads:
// it returns an index into replicas (all online, each with its measured
// Latency), or -1 for the master. It runs after each topology refresh,
// never per command, so it may take its time; it must not call the
// Client. It is how availability-zone affinity is built: match Node.Addr,
// Node.ID or the announced hostname against the application's own map.
type ReplicaSelector func(master Node, replicas []Node) int

// latencyAlpha weighs a new round-trip sample in a node's smoothed time.
const latencyAlpha = 0.3

// choosesReplicas reports whether reads go to a chosen replica per shard
// rather than a random one.
func (c *Client) choosesReplicas() bool {
	return c.opts.ReadReplicas && (c.opts.SelectReplica != nil || c.opts.ReplicaPolicy == ReplicaLowestLatency)
}

// chooseReplicas measures the replicas' round trips and sets each shard's
// chosen read node, by Options.SelectReplica or else the lowest latency.
// It runs after a refresh installed a table (New and the refresh loop).
func (c *Client) chooseReplicas(ctx context.Context) {
	if !c.choosesReplicas() {
		return
	}
	t := c.table.Load()
	var wg sync.WaitGroup
	for _, s := range t.shards {
		for _, r := range s.replicas {
			wg.Go(func() { c.measure(ctx, r) })
		}
	}
	wg.Wait()
	topo := t.topo
	for _, s := range t.shards {
		if len(s.replicas) == 0 {
			continue
		}
		choice := -1
		if c.opts.SelectReplica != nil {
			master, replicas := c.describeShard(topo, s)
			choice = c.opts.SelectReplica(master, replicas)
		} else {
			choice = lowestLatency(s.replicas)
		}
		switch {
		case choice < 0:
			s.chosen.Store(s.master)
		case choice < len(s.replicas):
			s.chosen.Store(s.replicas[choice])
		default:
			s.chosen.Store(nil) // out of range: random
		}
	}
}

// measure PINGs n and folds the round trip into its smoothed latency; a
// node that doesn't answer counts as a second.
func (c *Client) measure(ctx context.Context, n *node) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	_, err := c.doOn(ctx, n, []string{"PING"})
	rtt := time.Since(start)
	if err != nil {
		rtt = time.Second
	}
	old := n.rtt.Load()
	if old == 0 {
		n.rtt.Store(int64(rtt))
		return
	}
	n.rtt.Store(int64(latencyAlpha*float64(rtt) + (1-latencyAlpha)*float64(old)))
}

// lowestLatency returns the index of the replica with the lowest smoothed
// latency, ties broken at random.
func lowestLatency(replicas []*node) int {
	best, bestRTT, ties := -1, int64(0), 0
	for i, r := range replicas {
		rtt := r.rtt.Load()
		switch {
		case best < 0 || rtt < bestRTT:
			best, bestRTT, ties = i, rtt, 1
		case rtt == bestRTT:
			if ties++; rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

// describeShard returns the Node descriptions of s's master and online
// replicas, with their measured latencies.
func (c *Client) describeShard(topo *slots.Topology, s *shard) (Node, []Node) {
	var master Node
	byAddr := make(map[string]Node)
	for i := range topo.Shards {
		sh := &topo.Shards[i]
		if sh.Master.Addr != s.master.addr {
			continue
		}
		master = c.describeNode(sh, &sh.Master)
		for j := range sh.Replicas {
			byAddr[sh.Replicas[j].Addr] = c.describeNode(sh, &sh.Replicas[j])
		}
	}
	if master.Addr == "" {
		master = Node{Addr: s.master.addr, Role: slots.RoleMaster, c: c}
	}
	master.Latency = time.Duration(s.master.rtt.Load())
	replicas := make([]Node, len(s.replicas))
	for i, r := range s.replicas {
		nd, ok := byAddr[r.addr]
		if !ok {
			nd = Node{Addr: r.addr, Role: slots.RoleReplica, Master: s.master.addr, c: c}
		}
		nd.Latency = time.Duration(r.rtt.Load())
		replicas[i] = nd
	}
	return master, replicas
}
