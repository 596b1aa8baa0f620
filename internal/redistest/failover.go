package redistest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// promoteTimeout is how long one CLUSTER FAILOVER mode gets before
// TAKEOVER is tried. Here a shard fails over in well under a second; waiting
// for Redis's own 5 s manual-failover timeout would only slow down the tests
// when an attempt is stuck.
const promoteTimeout = 2 * time.Second

// Failover makes a replica of master the master of its shard with CLUSTER
// FAILOVER, run on the replica; if master is not running (killed or paused),
// with FAILOVER FORCE. If that has not taken effect everywhere within a few
// seconds it falls back on TAKEOVER, which needs no election. (Redis 7.0
// has a reason to: a replica that won an election less than twice the node
// timeout ago, and was demoted since, "wins" a new one at once with its old,
// stale epoch and is demoted again.) It returns once every running node
// agrees that the replica owns the shard's slots (and that master, if it
// runs, replicates it) and WaitHealthy is satisfied. ReplicaOf, asked
// before, names the replica that is promoted; MasterOf tells afterwards.
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
	first := []string{"CLUSTER", "FAILOVER"}
	if !master.Running() {
		first = append(first, "FORCE")
	}
	var errs []error
	for _, cmd := range [][]string{first, {"CLUSTER", "FAILOVER", "TAKEOVER"}} {
		err := c.promote(ctx, cmd, master, replica, slots)
		if err == nil {
			return c.WaitHealthy(ctx)
		}
		errs = append(errs, fmt.Errorf("%s: %w", strings.Join(cmd, " "), err))
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("redistest: failover of %s to %s: %w", master, replica, errors.Join(errs...))
}

// promote runs cmd on replica and waits, for at most promoteTimeout, until
// every running node agrees that replica owns slots and that master, if it
// runs, replicates it. A replica that refuses because it is a master already
// (an earlier attempt succeeded late) counts as promoted.
func (c *TestCluster) promote(ctx context.Context, cmd []string, master, replica *Node, slots []int) error {
	if _, err := replica.Do(ctx, cmd...); err != nil && !strings.Contains(err.Error(), "to a replica") {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, promoteTimeout)
	defer cancel()
	return poll(ctx, func(ctx context.Context) error {
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
}
