package cluster

import (
	"sync"

	"github.com/respwire/respwire/conn"
)

// Stats is a snapshot of a cluster Client's figures (see Client.Stats).
type Stats struct {
	// Nodes holds each node connection's figures (conn.Client.Stats), by
	// node address, for the nodes the Client holds now: those it routes
	// to and has dialled, and those dropped from the routing whose calls
	// are still being answered (while both a retired node and its
	// successor at the same address are connected, their figures are
	// added up). Their Cache is zero: the cache is the cluster's, in
	// Total.Cache.
	Nodes map[string]conn.Stats
	// Total sums the counters and gauges of Nodes, plus the counters of
	// the node connections the Client has closed (nodes dropped from the
	// routing), taken together, so its counters never go down from one
	// snapshot to the next. Its Cache is the cluster's cache
	// (Client.CacheStats).
	//
	// Total, like Nodes, counts the Client's own questions to the nodes
	// too: the CLUSTER SHARDS of refreshes and the PINGs of probes are
	// Commands, and a refresh that asks several nodes at once (all but the
	// steady check) withdraws the questions still unanswered when one
	// node has answered, each counted in Timeouts.
	Total conn.Stats

	Moved, Ask    uint64 // MOVED and ASK redirects followed
	Refreshes     uint64 // topology refreshes finished (those of New not counted)
	RefreshErrors uint64 // refreshes among them that read no topology
	Suspects      int    // nodes suspect now (see Hooks.Node)
}

// Stats returns a snapshot of the Client's figures. It asks each node's
// connection for its own (a few short locks each); nothing is counted on
// a command's path that the node connections don't already count, so it
// is cheap to read every second.
func (c *Client) Stats() Stats {
	st := Stats{
		Moved:         c.obs.moved.Load(),
		Ask:           c.obs.ask.Load(),
		Refreshes:     c.obs.refreshes.Load(),
		RefreshErrors: c.obs.refreshErrs.Load(),
	}
	c.suspects.mu.Lock()
	st.Suspects = len(c.suspects.nodes)
	c.suspects.mu.Unlock()

	st.Total, st.Nodes = c.nodes.stats.snapshot()
	st.Total.Cache = c.CacheStats()
	return st
}

// nodeStats gathers the figures of a Client's node connections: those open
// (live) are read when a snapshot is taken, those closed were added to
// closed as they closed, both under one lock, so that a snapshot counts
// each connection exactly once and Total never goes down while nodes are
// retired and closed.
type nodeStats struct {
	mu     sync.Mutex
	live   map[*conn.Client]string // node address, by connection
	closed conn.Stats              // the counters of the connections closed
}

// track counts cl, the new connection of the node at addr, until untrack.
func (s *nodeStats) track(addr string, cl *conn.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live == nil {
		s.live = make(map[*conn.Client]string)
	}
	s.live[cl] = addr
}

// untrack moves the counters of cl, which has closed, from the live
// connections to the closed ones; only the first call for cl does
// anything.
func (s *nodeStats) untrack(cl *conn.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live[cl]; !ok {
		return
	}
	delete(s.live, cl)
	st := cl.Stats()
	st.InFlight, st.WriteBufferBytes, st.DedicatedInUse, st.DedicatedOpen = 0, 0, 0, 0
	addStats(&s.closed, st)
}

// snapshot returns the sum of every connection's figures (the closed ones'
// counters, the live ones' counters and gauges), and the live ones' by
// address: two connections to one address (a retired node's and its
// successor's) are added up. The figures' Cache is zero.
func (s *nodeStats) snapshot() (total conn.Stats, nodes map[string]conn.Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total = s.closed
	nodes = make(map[string]conn.Stats, len(s.live))
	for cl, addr := range s.live {
		st := cl.Stats()
		st.Cache = conn.CacheStats{}
		ns := nodes[addr]
		addStats(&ns, st)
		nodes[addr] = ns
		addStats(&total, st)
	}
	return total, nodes
}

// addStats adds s's counters and gauges (not its Cache) to sum.
func addStats(sum *conn.Stats, s conn.Stats) {
	sum.Commands += s.Commands
	sum.Errors += s.Errors
	sum.Timeouts += s.Timeouts
	sum.Dials += s.Dials
	sum.Redials += s.Redials
	sum.Closed += s.Closed
	sum.BytesWritten += s.BytesWritten
	sum.BytesRead += s.BytesRead
	sum.InFlight += s.InFlight
	sum.WriteBufferBytes += s.WriteBufferBytes
	sum.DedicatedInUse += s.DedicatedInUse
	sum.DedicatedOpen += s.DedicatedOpen
}
