package redistest

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// WaitHealthy waits until the running nodes (killed and paused ones are left
// out) agree on a healthy cluster: each reports cluster_state:ok; each sees
// every running node connected and none of them failing; each assigns all
// 16384 slots, to the same masters, none of them failing, with no migration
// in progress; each agrees on who replicates whom; and every running replica
// has a synced link to its master. Without a deadline on ctx it gives up
// after a minute.
func (c *TestCluster) WaitHealthy(ctx context.Context) error {
	if err := poll(ctx, c.checkHealthy); err != nil {
		return fmt.Errorf("redistest: cluster not healthy: %w", err)
	}
	return nil
}

// checkHealthy returns nil if the cluster is healthy, else why not.
func (c *TestCluster) checkHealthy(ctx context.Context) error {
	nodes := c.running()
	if len(nodes) == 0 {
		return fmt.Errorf("no node is running")
	}
	views := make([]*clusterView, len(nodes))
	err := eachNode(nodes, func(i int, n *Node) error {
		// One connection for both: this runs every poll interval.
		replies, err := n.DoMulti(ctx, []string{"CLUSTER", "INFO"}, []string{"CLUSTER", "NODES"})
		if err != nil {
			return err
		}
		info, err := parseFields(replies[0])
		if err != nil {
			return fmt.Errorf("%s: CLUSTER INFO: %w", n, err)
		}
		if state := info["cluster_state"]; state != "ok" {
			return fmt.Errorf("%s: cluster_state:%s", n, state)
		}
		views[i], err = parseView(n, replies[1])
		return err
	})
	if err != nil {
		return err
	}
	ref := views[0]
	for i, v := range views {
		if err := c.checkView(nodes[i], v, ref, nodes); err != nil {
			return err
		}
	}
	return eachNode(nodes, func(_ int, n *Node) error {
		if vn := ref.nodes[n.ID]; vn.isMaster() {
			return nil
		}
		return checkReplicaSynced(ctx, n)
	})
}

// checkView checks one node's view on its own and against ref, another
// node's view.
func (c *TestCluster) checkView(n *Node, v, ref *clusterView, running []*Node) error {
	if n.ID != "" && v.self != n.ID {
		return fmt.Errorf("%s calls itself %s", n, v.self)
	}
	for _, m := range running {
		vm := v.nodes[m.ID]
		if vm == nil {
			return fmt.Errorf("%s does not know %s", n, m)
		}
		if vm.failing() || !(vm.linked || m.ID == v.self) {
			return fmt.Errorf("%s sees %s as %s", n, m, flagList(vm))
		}
		if vm.masterID != ref.nodes[m.ID].masterID {
			return fmt.Errorf("%s and %s disagree on the master of %s", n, running[0], m)
		}
	}
	if self := v.nodes[v.self]; len(self.migrating)+len(self.importing) > 0 {
		return fmt.Errorf("%s has a slot migration in progress", n)
	}
	for slot, owner := range v.owners {
		if owner == "" {
			return fmt.Errorf("%s: slot %d is not assigned", n, slot)
		}
		if v.nodes[owner].failing() {
			return fmt.Errorf("%s: slot %d belongs to %s, which is %s", n, slot, owner, flagList(v.nodes[owner]))
		}
		if owner != ref.owners[slot] {
			return fmt.Errorf("%s and %s disagree on the owner of slot %d", n, running[0], slot)
		}
	}
	return nil
}

// checkReplicaSynced checks that a replica's link to its master is up and
// its initial sync done.
func checkReplicaSynced(ctx context.Context, n *Node) error {
	info, err := n.Info(ctx, "replication")
	if err != nil {
		return err
	}
	if info["role"] != "slave" {
		return fmt.Errorf("%s: role %s, want slave", n, info["role"])
	}
	if info["master_link_status"] != "up" || info["master_sync_in_progress"] != "0" {
		return fmt.Errorf("%s: master_link_status:%s master_sync_in_progress:%s",
			n, info["master_link_status"], info["master_sync_in_progress"])
	}
	return nil
}

func flagList(vn *viewNode) string {
	flags := make([]string, 0, len(vn.flags))
	for f := range vn.flags {
		flags = append(flags, f)
	}
	slices.Sort(flags)
	link := "disconnected"
	if vn.linked {
		link = "connected"
	}
	return strings.Join(flags, ",") + " " + link
}
