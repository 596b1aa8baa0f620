package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/respwire/respwire/conn"
)

const (
	// suspectInterval is how often the topology is read again while some
	// node is suspect, so that a failover is noticed even when no command
	// gets an answer that says so (calls to a dead node just wait).
	suspectInterval = 250 * time.Millisecond
	// probeTimeout bounds the PING that clears a suspect node.
	probeTimeout = 250 * time.Millisecond
)

// suspects are nodes whose connection broke or whose calls ran out of time.
// While there are any, the refresh loop reads the topology every
// suspectInterval and PINGs them; a node leaves the set when it answers or
// when the topology no longer routes to it.
type suspects struct {
	mu    sync.Mutex
	nodes map[*node]bool
}

// suspect adds n to the suspects, because of cause, and asks for a
// refresh now. A node that becomes suspect is reported (Hooks.Node, the
// log); one already suspect is not again.
func (c *Client) suspect(n *node, cause error) {
	if n == nil {
		return
	}
	c.suspects.mu.Lock()
	if c.suspects.nodes == nil {
		c.suspects.nodes = make(map[*node]bool)
	}
	added := !c.suspects.nodes[n]
	c.suspects.nodes[n] = true
	c.suspects.mu.Unlock()
	if added {
		c.nodeSuspected(n, cause)
	}
	c.triggerRefresh(RefreshSuspect)
}

// clientOf returns n's connection, dialling it if needed, as node.get
// does, and suspects n if that connection is down. A master the cluster
// reports failed is not dialled and not waited for: unless its connection
// is up, clientOf fails at once with a failedNodeError.
func (c *Client) clientOf(ctx context.Context, n *node) (*conn.Client, error) {
	if n.reportedFailed.Load() && n.client.Load() == nil {
		err := &failedNodeError{addr: n.addr}
		c.suspect(n, err)
		return nil, err
	}
	cl, err := n.get(ctx)
	if err == nil {
		err = c.checkConnected(n, cl)
	}
	return cl, err
}

// checkConnected suspects n when its connection cl is down. A call on it
// would wait for the redial, which never succeeds if the node died, and
// nothing it gets back would tell that the node failed over: the refresh
// that suspicion starts does, and the node's connection, dropped from the
// routing, then fails the waiting calls as unsent, to be routed afresh.
// For a master the cluster reports failed, whose slots no replica took
// over, there is nothing to wait for: checkConnected returns a
// failedNodeError, which ends the call.
func (c *Client) checkConnected(n *node, cl *conn.Client) error {
	if cl.Connected() {
		return nil
	}
	c.suspect(n, n.downCause())
	if n.reportedFailed.Load() {
		return &failedNodeError{addr: n.addr}
	}
	return nil
}

func (c *Client) hasSuspects() bool {
	c.suspects.mu.Lock()
	defer c.suspects.mu.Unlock()
	return len(c.suspects.nodes) > 0
}

// checkSuspects PINGs every suspect the table still routes to, all at once,
// and clears those that answer or that the table dropped.
func (c *Client) checkSuspects() {
	c.suspects.mu.Lock()
	list := make([]*node, 0, len(c.suspects.nodes))
	for n := range c.suspects.nodes {
		list = append(list, n)
	}
	c.suspects.mu.Unlock()
	if len(list) == 0 {
		return
	}
	routed := c.table.Load().addrs()
	cleared := make([]bool, len(list))
	var wg sync.WaitGroup
	for i, n := range list {
		if !routed[n.addr] {
			cleared[i] = true
			continue
		}
		wg.Go(func() { cleared[i] = c.probe(n) })
	}
	wg.Wait()
	c.suspects.mu.Lock()
	for i, n := range list {
		if cleared[i] {
			delete(c.suspects.nodes, n)
		}
	}
	c.suspects.mu.Unlock()
	for i, n := range list {
		if cleared[i] && c.lifetime.Err() == nil {
			c.nodeRecovered(n, routed[n.addr])
		}
	}
}

// probe tells whether the suspect n answers a PING, and records why not.
// When n's connection is down, calls wait for its conn.Client to redial,
// which doesn't say why it fails: the probe then dials a connection of its
// own, only to learn that (a refused connection, a timeout), and n stays
// suspect until its client is connected again.
func (c *Client) probe(n *node) bool {
	ctx, cancel := context.WithTimeout(c.lifetime, probeTimeout)
	defer cancel()
	cl, err := n.get(ctx)
	if err != nil {
		return false // get recorded the dial error
	}
	if !cl.Connected() {
		cn, err := conn.Dial(ctx, n.addr, n.opts)
		if err != nil {
			n.noteFailure(err)
			return false
		}
		_ = cn.Close()
		return false
	}
	if _, err := cl.Do(ctx, "PING"); err != nil {
		if c.lifetime.Err() == nil {
			n.noteFailure(fmt.Errorf("PING: %w", err))
		}
		return false
	}
	n.noteAnswer()
	return true
}
