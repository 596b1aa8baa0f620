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
	// are still being answered. Their Cache is zero: the cache is the
	// cluster's, in Total.Cache.
	Nodes map[string]conn.Stats
	// Total sums the counters and gauges of Nodes, plus the counters of
	// the node connections the Client has closed (nodes dropped from the
	// routing), so its counters only grow. Its Cache is the cluster's
	// cache (Client.CacheStats).
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

	st.Total = c.nodes.closedStats.load()
	st.Nodes = make(map[string]conn.Stats)
	for addr, cl := range c.nodes.clients() {
		ns := cl.Stats()
		ns.Cache = conn.CacheStats{}
		st.Nodes[addr] = ns
		addStats(&st.Total, ns)
	}
	st.Total.Cache = c.CacheStats()
	return st
}

// clients returns the connection of every node of the set that has one,
// retiring ones included, by address.
func (s *nodeSet) clients() map[string]*conn.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]*conn.Client, len(s.all)+len(s.retiring))
	for _, n := range s.retiring {
		if cl := n.client.Load(); cl != nil {
			m[n.addr] = cl
		}
	}
	for addr, n := range s.all {
		if cl := n.client.Load(); cl != nil {
			m[addr] = cl
		}
	}
	return m
}

// closedCounts sums the counters of node connections that closed.
type closedCounts struct {
	mu  sync.Mutex
	sum conn.Stats
}

func (cc *closedCounts) add(s conn.Stats) {
	s.InFlight, s.WriteBufferBytes, s.DedicatedInUse, s.DedicatedOpen = 0, 0, 0, 0
	s.Cache = conn.CacheStats{}
	cc.mu.Lock()
	addStats(&cc.sum, s)
	cc.mu.Unlock()
}

func (cc *closedCounts) load() conn.Stats {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.sum
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
