package redistest

import (
	"context"
	"fmt"
)

// Reset brings the cluster back to how StartCluster made it, for a test's
// Cleanup after faults: it resumes paused nodes, restarts killed ones, waits
// until the cluster is healthy, fails each shard back to the node that was
// its master, and moves every slot back to its first owner. A cluster of
// external servers is only checked with WaitHealthy. Without a deadline on
// ctx, every wait inside gives up after a minute.
func (c *TestCluster) Reset(ctx context.Context) error {
	for _, n := range c.nodes {
		if err := n.revive(ctx); err != nil {
			return err
		}
	}
	if err := c.WaitHealthy(ctx); err != nil {
		return err
	}
	if c.masters == 0 {
		return nil
	}
	for _, m := range c.nodes[:c.masters] {
		v, err := c.anyView(ctx)
		if err != nil {
			return err
		}
		vm := v.nodes[m.ID]
		if vm == nil {
			return fmt.Errorf("redistest: reset: the cluster does not know %s", m)
		}
		if vm.isMaster() {
			continue
		}
		current := c.node(vm.masterID)
		if current == nil {
			return fmt.Errorf("redistest: reset: %s replicates an unknown node %s", m, vm.masterID)
		}
		if err := c.failoverTo(ctx, v, current, m); err != nil {
			return err
		}
	}
	v, err := c.anyView(ctx)
	if err != nil {
		return err
	}
	for slot, owner := range v.owners {
		if want := c.builtOwner(slot); owner != want.ID {
			if err := c.MigrateSlot(ctx, slot, want); err != nil {
				return err
			}
		}
	}
	return nil
}

// revive resumes a paused node and restarts a killed (or crashed) one.
// Stopped and external nodes are left alone.
func (n *Node) revive(ctx context.Context) error {
	if n.external {
		return nil
	}
	n.mu.Lock()
	stopped, paused := n.stopped, n.paused
	dead := n.proc == nil || n.proc.hasExited()
	n.mu.Unlock()
	switch {
	case stopped:
		return nil
	case dead:
		return n.Restart(ctx)
	case paused:
		return n.Resume()
	}
	return nil
}
