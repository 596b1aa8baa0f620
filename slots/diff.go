package slots

import "slices"

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
	var c Changes
	for slot := range uint16(NumSlots) {
		from, wasServed := old.ShardFor(slot)
		to, isServed := new.ShardFor(slot)
		if wasServed != isServed ||
			isServed && (from.Master.ID != to.Master.ID || from.Master.Addr != to.Master.Addr) {
			c.MovedSlots = append(c.MovedSlots, slot)
		}
	}
	c.AddedNodes = missingFrom(new.Addrs(), old.Addrs())
	c.RemovedNodes = missingFrom(old.Addrs(), new.Addrs())
	return c
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
