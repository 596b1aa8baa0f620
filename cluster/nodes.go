package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// Node is one node of the topology the Client routes by, as Masters,
// Replicas and Nodes report it, and a way to send it commands.
type Node struct {
	Addr   string      // host:port
	ID     string      // the node's ID, when the server reported it
	Role   string      // slots.RoleMaster or slots.RoleReplica
	Health string      // slots.HealthOnline, HealthFailed, HealthLoading (always online from CLUSTER SLOTS)
	Master string      // a replica's master's address; empty for a master
	Slots  [][2]uint16 // inclusive slot ranges its shard serves (a replica: its master's)
	// Latency is the node's smoothed PING round trip, measured with
	// ReplicaLowestLatency or a SelectReplica (0: not measured).
	Latency time.Duration

	c *Client
}

// Masters returns the masters that serve slots, in slot order.
func (c *Client) Masters() []Node {
	topo := c.Topology()
	var list []Node
	for i := range topo.Shards {
		s := &topo.Shards[i]
		if len(s.Ranges) > 0 {
			list = append(list, c.describeNode(s, &s.Master))
		}
	}
	return list
}

// Replicas returns the replicas of the masters that serve slots, whatever
// their health.
func (c *Client) Replicas() []Node {
	topo := c.Topology()
	var list []Node
	for i := range topo.Shards {
		s := &topo.Shards[i]
		if len(s.Ranges) == 0 {
			continue
		}
		for j := range s.Replicas {
			list = append(list, c.describeNode(s, &s.Replicas[j]))
		}
	}
	return list
}

// Nodes returns Masters, then Replicas.
func (c *Client) Nodes() []Node {
	return append(c.Masters(), c.Replicas()...)
}

func (c *Client) describeNode(s *slots.Shard, n *slots.Node) Node {
	nd := Node{Addr: n.Addr, ID: n.ID, Role: n.Role, Health: n.Health, Slots: s.Ranges, c: c}
	if known := c.nodes.peek(n.Addr); known != nil {
		nd.Latency = time.Duration(known.rtt.Load())
	}
	if n.Role != slots.RoleMaster {
		nd.Master = s.Master.Addr
	}
	return nd
}

// Do sends one command to this node only and returns its reply. No
// redirect is followed and nothing fans out: a MOVED is returned as the
// error reply it is. On a replica, reads need Options.ReadReplicas (which
// sends READONLY), or the replica answers MOVED. An error that is not the
// server's reply names the node.
func (nd Node) Do(ctx context.Context, args ...string) (resp.Value, error) {
	if nd.c == nil {
		return resp.Value{}, errors.New("cluster: Node not from a Client")
	}
	if len(args) == 0 {
		return resp.Value{}, errNoCommand
	}
	for {
		v, err := nd.c.doOn(ctx, nd.c.nodes.get(nd.Addr), args)
		if !isRetired(err) || nd.c.closed.Load() {
			return v, err
		}
		// The routing dropped that node a moment ago: the address gets
		// a node of its own again.
	}
}

// DoMulti sends cmds to this node only, written together, and returns
// their replies in order, as Do does for one.
func (nd Node) DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	if nd.c == nil {
		return nil, errors.New("cluster: Node not from a Client")
	}
	for {
		n := nd.c.nodes.get(nd.Addr)
		cl, err := nd.c.enter(ctx, n)
		if isRetired(err) && !nd.c.closed.Load() {
			continue
		}
		if err != nil {
			return nil, failedOn(n, err)
		}
		replies, err := cl.DoMulti(ctx, cmds...)
		n.release()
		if err != nil {
			err = failedOn(n, err)
		}
		return replies, err
	}
}

// isRetired reports whether err is a refusal by a node the routing dropped.
func isRetired(err error) bool {
	var ne *nodeError
	return errors.As(err, &ne) && errors.Is(ne.err, errRetired)
}

// ForEachMaster calls fn for every master of Masters, all at once, and
// waits for them. It returns nil if every call did, else every error,
// joined (errors.Join), each saying which node it came from.
func (c *Client) ForEachMaster(ctx context.Context, fn func(ctx context.Context, n Node) error) error {
	return forEach(ctx, c.Masters(), fn)
}

// ForEachNode is ForEachMaster over every master and every replica not
// reported failed. (Redis 7.0 reports a replica as loading until its
// first replication offset reaches the others by gossip, though it serves
// commands: loading replicas are included.)
func (c *Client) ForEachNode(ctx context.Context, fn func(ctx context.Context, n Node) error) error {
	var list []Node
	for _, n := range c.Nodes() {
		if n.Role == slots.RoleMaster || n.Health != slots.HealthFailed {
			list = append(list, n)
		}
	}
	return forEach(ctx, list, fn)
}

func forEach(ctx context.Context, list []Node, fn func(ctx context.Context, n Node) error) error {
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, n := range list {
		wg.Go(func() {
			if err := fn(ctx, n); err != nil {
				errs[i] = fmt.Errorf("cluster: on %s %s: %w", n.Role, n.Addr, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
