package cluster

import (
	"slices"
	"strings"

	"github.com/respwire/respwire/slots"
)

// tableDiff is what changed from one refresh's routing to the next one's,
// for RefreshEvent and the log.
type tableDiff struct {
	changed        bool
	movedSlots     int      // slots whose master's address changed (or that gained or lost one)
	added, removed []string // addresses routed to, sorted
	failovers      []failover
}

// failover is a shard whose master changed to one of its replicas.
type failover struct {
	from, to string
	slots    int
}

// diffTables compares the routing old (nil before the first) with t: the
// master of every slot, the addresses routed to, and each master's
// replicas. It compares tables built from topologies read by refreshes, not
// those a MOVED patched, so a slot a MOVED moved first still counts.
func diffTables(old, t *routeTable) tableDiff {
	var d tableDiff
	if old == nil {
		return d
	}
	for i := range slots.NumSlots {
		was, now := old.slots[i], t.slots[i]
		wasAddr, nowAddr := masterAddr(was), masterAddr(now)
		if wasAddr == nowAddr {
			continue
		}
		d.movedSlots++
		if was != nil && now != nil && hasReplica(was, nowAddr) {
			d.addFailover(wasAddr, nowAddr)
		}
	}
	oldAddrs, newAddrs := old.addrs(), t.addrs()
	for a := range newAddrs {
		if !oldAddrs[a] {
			d.added = append(d.added, a)
		}
	}
	for a := range oldAddrs {
		if !newAddrs[a] {
			d.removed = append(d.removed, a)
		}
	}
	slices.Sort(d.added)
	slices.Sort(d.removed)
	d.changed = d.movedSlots > 0 || len(d.added) > 0 || len(d.removed) > 0 || !sameReplicas(old, t)
	return d
}

func (d *tableDiff) addFailover(from, to string) {
	for i := range d.failovers {
		if f := &d.failovers[i]; f.from == from && f.to == to {
			f.slots++
			return
		}
	}
	d.failovers = append(d.failovers, failover{from: from, to: to, slots: 1})
}

func masterAddr(s *shard) string {
	if s == nil {
		return ""
	}
	return s.master.addr
}

// hasReplica reports whether addr is one of s's replicas, online or loading.
func hasReplica(s *shard, addr string) bool {
	for _, r := range s.replicas {
		if r.addr == addr {
			return true
		}
	}
	for _, r := range s.loading {
		if r.addr == addr {
			return true
		}
	}
	return false
}

// sameReplicas reports whether every master has the same replicas (online
// and loading, in any order) in old and t.
func sameReplicas(old, t *routeTable) bool {
	list := func(rt *routeTable) map[string]string {
		m := make(map[string]string, len(rt.shards))
		for _, s := range rt.shards {
			var addrs []string
			for _, r := range s.replicas {
				addrs = append(addrs, r.addr)
			}
			for _, r := range s.loading {
				addrs = append(addrs, r.addr)
			}
			slices.Sort(addrs)
			m[s.master.addr] = strings.Join(addrs, " ")
		}
		return m
	}
	a, b := list(old), list(t)
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
