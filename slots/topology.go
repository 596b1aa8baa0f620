package slots

import (
	"cmp"
	"fmt"
	"slices"
)

// Node roles, as Node.Role reports them.
const (
	RoleMaster  = "master"
	RoleReplica = "replica"
)

// Node health, as Node.Health reports it. CLUSTER SLOTS does not report
// health and leaves unavailable replicas out, so its nodes are all
// HealthOnline; CLUSTER SHARDS reports every node with its health. Route
// only to HealthOnline replicas: a loading one is not in sync yet.
const (
	HealthOnline  = "online"
	HealthFailed  = "failed"
	HealthLoading = "loading"
)

// Node is one redis-server of a cluster.
type Node struct {
	ID       string // the 40-character node ID
	Addr     string // host:port to dial, see "Addresses" in the package doc
	Hostname string // the announced hostname, or empty
	Role     string // RoleMaster or RoleReplica
	Health   string // HealthOnline, HealthFailed, HealthLoading, or a newer word of the server's, kept as is
}

// key identifies the node: its ID, or its address when the server sent none.
func (n *Node) key() string {
	if n.ID != "" {
		return n.ID
	}
	return n.Addr
}

// Shard is a master, its replicas, and the slots the master serves.
type Shard struct {
	Master   Node
	Replicas []Node      // sorted by address
	Ranges   [][2]uint16 // inclusive [first, last] slot ranges, sorted, adjacent ranges merged
}

// Topology is a snapshot of which shard serves each of the 16384 slots.
// It is built by ParseClusterSlots or ParseClusterShards and must not be
// modified afterwards; it is then safe for concurrent use. The zero Topology
// is empty: no shard serves any slot.
type Topology struct {
	// Shards are ordered by their first slot; shards that serve no slot
	// (empty masters, which only CLUSTER SHARDS reports) come last.
	Shards []Shard

	// owner holds, for each slot, 1 + the index in Shards of the shard
	// serving it, or 0 when no shard does (so the zero Topology is empty).
	owner [NumSlots]uint16
}

// ShardFor returns the shard that serves slot, and false when no shard does
// or slot is out of range. It is a table lookup.
func (t *Topology) ShardFor(slot uint16) (*Shard, bool) {
	if int(slot) >= NumSlots {
		return nil, false
	}
	i := t.owner[slot]
	if i == 0 {
		return nil, false
	}
	return &t.Shards[i-1], true
}

// Addrs returns the address of every node, masters first (in shard order),
// then replicas, each once. Failed and loading replicas are included; their
// Health says so.
func (t *Topology) Addrs() []string {
	var addrs []string
	seen := make(map[string]bool)
	add := func(addr string) {
		if !seen[addr] {
			seen[addr] = true
			addrs = append(addrs, addr)
		}
	}
	for i := range t.Shards {
		add(t.Shards[i].Master.Addr)
	}
	for i := range t.Shards {
		for _, r := range t.Shards[i].Replicas {
			add(r.Addr)
		}
	}
	return addrs
}

// Covered returns how many of the 16384 slots some shard serves.
func (t *Topology) Covered() int {
	n := 0
	for i := range t.Shards {
		for _, r := range t.Shards[i].Ranges {
			n += int(r[1]-r[0]) + 1
		}
	}
	return n
}

// builder collects shards while a reply is parsed, then checks and orders
// them into a Topology.
type builder struct {
	shards []Shard
	// nodes maps every node's key to the index of its shard, and says
	// whether it was seen as that shard's master.
	nodes map[string]nodeSeen
}

type nodeSeen struct {
	shard  int
	master bool
}

func newBuilder() *builder {
	return &builder{nodes: make(map[string]nodeSeen)}
}

// shard returns the index of master's shard, adding the shard when master is
// new. A node that is already some shard's replica cannot be a master.
func (b *builder) shard(master Node) (int, error) {
	if seen, ok := b.nodes[master.key()]; ok {
		if !seen.master {
			return 0, fmt.Errorf("node %s is both a master and a replica", master.key())
		}
		return seen.shard, nil
	}
	b.shards = append(b.shards, Shard{Master: master})
	i := len(b.shards) - 1
	b.nodes[master.key()] = nodeSeen{shard: i, master: true}
	return i, nil
}

// addReplica adds r to shard i, once: CLUSTER SLOTS repeats a master's
// replicas for each of its ranges.
func (b *builder) addReplica(i int, r Node) error {
	if seen, ok := b.nodes[r.key()]; ok {
		if seen.master || seen.shard != i {
			return fmt.Errorf("node %s appears in two roles or shards", r.key())
		}
		return nil
	}
	b.nodes[r.key()] = nodeSeen{shard: i}
	b.shards[i].Replicas = append(b.shards[i].Replicas, r)
	return nil
}

// addRange gives slots first..last to shard i.
func (b *builder) addRange(i int, first, last int64) error {
	if first < 0 || last >= NumSlots || first > last {
		return fmt.Errorf("bad slot range %d-%d", first, last)
	}
	b.shards[i].Ranges = append(b.shards[i].Ranges, [2]uint16{uint16(first), uint16(last)})
	return nil
}

// topology orders the shards, merges their ranges and fills the slot table.
// A slot claimed twice is an error.
func (b *builder) topology() (*Topology, error) {
	t := &Topology{Shards: b.shards}
	for i := range t.Shards {
		s := &t.Shards[i]
		slices.SortFunc(s.Ranges, func(x, y [2]uint16) int { return cmp.Compare(x[0], y[0]) })
		merged := s.Ranges[:0]
		for _, r := range s.Ranges {
			if n := len(merged); n > 0 && merged[n-1][1] >= r[0] {
				return nil, fmt.Errorf("slot %d is served twice by %s", r[0], s.Master.Addr)
			} else if n > 0 && merged[n-1][1]+1 == r[0] {
				merged[n-1][1] = r[1]
				continue
			}
			merged = append(merged, r)
		}
		if len(merged) == 0 {
			merged = nil
		}
		s.Ranges = merged
		slices.SortFunc(s.Replicas, func(x, y Node) int {
			return cmp.Or(cmp.Compare(x.Addr, y.Addr), cmp.Compare(x.ID, y.ID))
		})
	}
	slices.SortFunc(t.Shards, compareShards)
	for i := range t.Shards {
		for _, r := range t.Shards[i].Ranges {
			for slot := int(r[0]); slot <= int(r[1]); slot++ {
				if t.owner[slot] != 0 {
					return nil, fmt.Errorf("slot %d is served by both %s and %s",
						slot, t.Shards[t.owner[slot]-1].Master.Addr, t.Shards[i].Master.Addr)
				}
				t.owner[slot] = uint16(i + 1)
			}
		}
	}
	return t, nil
}

// compareShards orders shards by first slot, slotless shards last by address.
func compareShards(x, y Shard) int {
	switch {
	case len(x.Ranges) == 0 && len(y.Ranges) == 0:
		return cmp.Or(cmp.Compare(x.Master.Addr, y.Master.Addr), cmp.Compare(x.Master.ID, y.Master.ID))
	case len(x.Ranges) == 0:
		return 1
	case len(y.Ranges) == 0:
		return -1
	}
	return cmp.Compare(x.Ranges[0][0], y.Ranges[0][0])
}
