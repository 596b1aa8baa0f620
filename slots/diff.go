package slots

import (
	"math"
	"slices"
)

// Changes is what differs between two topologies.
type Changes struct {
	// MovedSlots are the slots whose serving master changed (another node
	// ID or address), including slots that became served or unserved.
	// Ascending.
	MovedSlots []uint16
	// AddedNodes and RemovedNodes are the addresses of nodes, masters or
	// replicas, present in only the new or only the old topology. Sorted.
	AddedNodes, RemovedNodes []string
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.MovedSlots) == 0 && len(c.AddedNodes) == 0 && len(c.RemovedNodes) == 0
}

// Diff tells what changed from the old topology to the new one. A nil
// topology counts as empty.
func Diff(old, new *Topology) Changes {
	if old == nil {
		old = &Topology{}
	}
	if new == nil {
		new = &Topology{}
	}
	// successor maps an owner in old's slot table (0 for none, else 1 + a
	// shard index) to the owner in new's table that has the same master, or
	// to gone; a slot moved if its new owner is not its old owner's successor.
	const gone = math.MaxUint16
	newShard := make(map[[2]string]uint16, len(new.Shards))
	for i := range new.Shards {
		newShard[masterIdentity(&new.Shards[i])] = uint16(i + 1)
	}
	successor := make([]uint16, len(old.Shards)+1) // successor[0] = 0: unserved stays unserved
	for i := range old.Shards {
		if next, ok := newShard[masterIdentity(&old.Shards[i])]; ok {
			successor[i+1] = next
		} else {
			successor[i+1] = gone
		}
	}
	var c Changes
	for slot := range uint16(NumSlots) {
		if successor[old.owner[slot]] != new.owner[slot] {
			c.MovedSlots = append(c.MovedSlots, slot)
		}
	}
	c.AddedNodes = missingFrom(new.Addrs(), old.Addrs())
	c.RemovedNodes = missingFrom(old.Addrs(), new.Addrs())
	return c
}

// masterIdentity is what makes two shards' masters the same: node ID and
// address.
func masterIdentity(s *Shard) [2]string {
	return [2]string{s.Master.ID, s.Master.Addr}
}

// missingFrom returns, sorted, the addresses in addrs that others lacks.
func missingFrom(addrs, others []string) []string {
	known := make(map[string]bool, len(others))
	for _, a := range others {
		known[a] = true
	}
	var missing []string
	for _, a := range addrs {
		if !known[a] {
			missing = append(missing, a)
		}
	}
	slices.Sort(missing)
	return missing
}
