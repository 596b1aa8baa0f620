package redistest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
)

// build joins freshly started nodes into a cluster without redis-cli's
// fixed sleeps: the first c.masters nodes get distinct config epochs and
// even slot ranges, every node meets every other, the rest replicate the
// masters in turn, then it waits until the cluster is healthy.
func (c *TestCluster) build(ctx context.Context) error {
	masters := c.masters
	err := eachNode(c.nodes[:masters], func(i int, n *Node) error {
		// Distinct epochs spare the cluster its epoch-collision dance.
		if _, err := n.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1)); err != nil {
			return err
		}
		first, last := c.slotRange(i)
		_, err := n.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(first), strconv.Itoa(last))
		return err
	})
	if err != nil {
		return err
	}
	err = eachNode(c.nodes, func(i int, n *Node) error {
		for _, other := range c.nodes[i+1:] {
			_, err := n.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(other.Port), strconv.Itoa(other.busPort))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := poll(ctx, c.everyoneKnowsEveryone); err != nil {
		return fmt.Errorf("redistest: cluster nodes did not meet: %w", err)
	}
	err = eachNode(c.nodes[masters:], func(i int, n *Node) error {
		_, err := n.Do(ctx, "CLUSTER", "REPLICATE", c.nodes[i%masters].ID)
		return err
	})
	if err != nil {
		return err
	}
	return c.WaitHealthy(ctx)
}

// slotRange returns the first and last slot StartCluster gives master i.
func (c *TestCluster) slotRange(i int) (first, last int) {
	per := numSlots / c.masters
	first, last = i*per, (i+1)*per-1
	if i == c.masters-1 {
		last = numSlots - 1
	}
	return first, last
}

// builtOwner returns the master StartCluster gave slot to.
func (c *TestCluster) builtOwner(slot int) *Node {
	return c.nodes[min(slot/(numSlots/c.masters), c.masters-1)]
}

// everyoneKnowsEveryone checks that every node has completed the handshake
// with every other.
func (c *TestCluster) everyoneKnowsEveryone(ctx context.Context) error {
	return eachNode(c.nodes, func(_ int, n *Node) error {
		v, err := n.view(ctx)
		if err != nil {
			return err
		}
		for _, other := range c.nodes {
			vn := v.nodes[other.ID]
			if vn == nil || vn.flags["handshake"] || vn.flags["noaddr"] {
				return fmt.Errorf("%s does not know %s yet", n, other)
			}
		}
		return nil
	})
}

// eachNode runs fn for every node concurrently and returns the first error.
func eachNode(nodes []*Node, fn func(i int, n *Node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = fn(i, n) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
