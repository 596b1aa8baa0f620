package cluster

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/respwire/respwire/slots"
)

// shard is where one slot's commands go: its master, and the replicas that
// may serve reads.
type shard struct {
	master   *node
	replicas []*node // online: they serve reads
	loading  []*node // reported loading: no reads, but all_nodes commands reach them
	// chosen, when set, serves every read of the shard (a replica, or the
	// master): the choice of ReplicaLowestLatency or SelectReplica.
	chosen atomic.Pointer[node]
}

// routeTable is an immutable snapshot of the routing: the Client holds it
// behind an atomic pointer, so a command finds its node without a lock or an
// allocation. A change (a refresh, a MOVED) builds a new table and swaps it in.
type routeTable struct {
	topo   *slots.Topology
	slots  [slots.NumSlots]*shard // nil: no known owner
	shards []*shard               // one per master that serves slots; keyless commands go to any
	// loadingReplicas: some replica was left out as loading, which it
	// usually stops being within a second; see refreshLoop.
	loadingReplicas bool
}

// newRouteTable builds the table for topo, taking nodes from ns.
func newRouteTable(topo *slots.Topology, ns *nodeSet) *routeTable {
	t := &routeTable{topo: topo}
	for i := range topo.Shards {
		s := &topo.Shards[i]
		// A master without slots is left out: a failed master after its
		// replica took over, or a node not yet given slots. Its node is then
		// closed, which ends the calls still waiting for it to come back.
		if s.Master.Addr == "" || len(s.Ranges) == 0 {
			continue
		}
		sh := &shard{master: ns.get(s.Master.Addr)}
		// A failed master still holding slots with no replica that could
		// take over (none, or all failed too): nothing will change until a
		// human or the node acts, so its calls fail at once (see clientOf).
		// With a live replica, a failover is coming: calls wait for it.
		sh.master.reportedFailed.Store(s.Master.Health == slots.HealthFailed && !anyLive(s.Replicas))
		for _, r := range s.Replicas {
			// Only online replicas serve reads. A loading one may not hold
			// the master's data yet (Redis 7.0 reports a replica as loading
			// until gossip brings its first replication offset), and a
			// failed one doesn't answer. Their reads go to the master until
			// a refresh shows them online.
			switch {
			case r.Addr == "":
			case r.Health == slots.HealthOnline:
				rn := ns.get(r.Addr)
				rn.reportedFailed.Store(false) // a failed master that came back as a replica
				sh.replicas = append(sh.replicas, rn)
			case r.Health == slots.HealthLoading:
				t.loadingReplicas = true
				sh.loading = append(sh.loading, ns.get(r.Addr))
			}
		}
		t.shards = append(t.shards, sh)
		for _, rg := range s.Ranges {
			for slot := int(rg[0]); slot <= int(rg[1]) && slot < slots.NumSlots; slot++ {
				t.slots[slot] = sh
			}
		}
	}
	return t
}

// withSlot returns a copy of t in which slot belongs to the master at addr.
// Replicas come along when addr already masters another shard.
func (t *routeTable) withSlot(slot int, addr string, ns *nodeSet) *routeTable {
	next := &routeTable{topo: t.topo, shards: t.shards, loadingReplicas: t.loadingReplicas}
	next.slots = t.slots
	var sh *shard
	for _, s := range t.shards {
		if s.master.addr == addr {
			sh = s
			break
		}
	}
	if sh == nil {
		sh = &shard{master: ns.get(addr)}
		next.shards = append(append([]*shard(nil), t.shards...), sh)
	}
	next.slots[slot] = sh
	return next
}

// addrs returns every address the table routes to.
func (t *routeTable) addrs() map[string]bool {
	m := make(map[string]bool)
	for _, s := range t.shards {
		m[s.master.addr] = true
		for _, r := range s.replicas {
			m[r.addr] = true
		}
		for _, r := range s.loading {
			m[r.addr] = true
		}
	}
	return m
}

// pick returns the node for a command on slot (noSlot: any master). A
// read-only command goes to a random replica of its shard when replicas
// serve reads, else to the master. nil means no node is known.
func (t *routeTable) pick(slot int, toReplica bool) *node {
	if slot == noSlot || t.slots[slot] == nil {
		if len(t.shards) == 0 {
			return nil
		}
		return t.shards[rand.IntN(len(t.shards))].master
	}
	s := t.slots[slot]
	if toReplica && len(s.replicas) > 0 {
		if n := s.chosen.Load(); n != nil {
			return n
		}
		return s.replicas[rand.IntN(len(s.replicas))]
	}
	return s.master
}

// anyLive reports whether some node of list is not reported failed.
func anyLive(list []slots.Node) bool {
	for _, n := range list {
		if n.Health != slots.HealthFailed {
			return true
		}
	}
	return false
}

// masters returns the master of every shard that serves slots.
func (t *routeTable) masters() []*node {
	list := make([]*node, len(t.shards))
	for i, s := range t.shards {
		list[i] = s.master
	}
	return list
}

// allNodes returns every master that serves slots, then the replicas of
// each that aren't reported failed (loading ones included: Redis 7.0
// reports a fresh replica as loading until gossip brings its replication
// offset, though it serves commands).
func (t *routeTable) allNodes() []*node {
	list := t.masters()
	for _, s := range t.shards {
		list = append(list, s.replicas...)
		list = append(list, s.loading...)
	}
	return list
}
