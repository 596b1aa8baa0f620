package redistest

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// promoteTimeout is how long one CLUSTER FAILOVER mode gets before the
// next, more forceful one is tried. Here a shard fails over in well under a
// second; waiting for Redis's own 5 s manual-failover timeout would only
// slow down the tests when an attempt is stuck.
const promoteTimeout = 3 * time.Second

// Failover makes a replica of master the master of its shard with CLUSTER
// FAILOVER, run on the replica. If master is not running (killed or paused)
// it uses FAILOVER FORCE, and TAKEOVER if that does not succeed either. It
// returns once every running node agrees that the replica owns the shard's
// slots (and that master, if it runs, replicates it) and WaitHealthy is
// satisfied. ReplicaOf, asked before, names the replica that is promoted
// when the shard has one; MasterOf tells afterwards.
func (c *TestCluster) Failover(ctx context.Context, master *Node) error {
	v, err := c.anyView(ctx)
	if err != nil {
		return err
	}
	replica, err := c.replicaIn(v, master)
	if err != nil {
		return err
	}
	return c.failoverTo(ctx, v, master, replica)
}

// failoverTo promotes replica, one of master's, as Failover describes; v is
// a recent view of the cluster.
func (c *TestCluster) failoverTo(ctx context.Context, v *clusterView, master, replica *Node) error {
	if !replica.Running() {
		return fmt.Errorf("redistest: failover of %s: replica %s is not running", master, replica)
	}
	var slots []int
	for slot, owner := range v.owners {
		if owner == master.ID {
			slots = append(slots, slot)
		}
	}
	modes := [][]string{{}, {"FORCE"}, {"TAKEOVER"}}
	if !master.Running() {
		modes = modes[1:]
	}
	var errs []error
	for _, mode := range modes {
		err := c.promote(ctx, replica, mode)
		if err == nil {
			break
		}
		errs = append(errs, err)
		if ctx.Err() != nil || len(errs) == len(modes) {
			return fmt.Errorf("redistest: failover of %s to %s: %w", master, replica, errors.Join(errs...))
		}
	}
	err := poll(ctx, func(ctx context.Context) error {
		return eachNode(c.running(), func(_ int, n *Node) error {
			v, err := n.view(ctx)
			if err != nil {
				return err
			}
			for _, slot := range slots {
				if v.owners[slot] != replica.ID {
					return fmt.Errorf("%s: slot %d still belongs to %s", n, slot, v.owners[slot])
				}
			}
			if old := v.nodes[master.ID]; master.Running() && (old == nil || old.masterID != replica.ID) {
				return fmt.Errorf("%s does not see %s as a replica of %s yet", n, master, replica)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("redistest: failover of %s to %s: %w", master, replica, err)
	}
	return c.WaitHealthy(ctx)
}

// promote runs CLUSTER FAILOVER [mode] on replica and waits, for at most
// promoteTimeout, until it calls itself a master.
func (c *TestCluster) promote(ctx context.Context, replica *Node, mode []string) error {
	args := append([]string{"CLUSTER", "FAILOVER"}, mode...)
	if _, err := replica.Do(ctx, args...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, promoteTimeout)
	defer cancel()
	return poll(ctx, func(ctx context.Context) error {
		info, err := replica.Info(ctx, "replication")
		if err != nil {
			return err
		}
		if info["role"] != "master" {
			return fmt.Errorf("%s is still a %s", replica, info["role"])
		}
		return nil
	})
}
