package redistest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	Masters  int // default 3
	Replicas int // replicas per master: 0 means the default, 1; negative means none
	// Password, TLS and Config apply to every node, as in NodeOptions. With
	// TLS the cluster bus and replication use TLS too, and CLUSTER SLOTS
	// announces the TLS ports.
	Password string
	TLS      bool
	Config   []string
}

// TestCluster is a Redis Cluster of harness nodes, or of external servers named
// by REDIS_CLUSTER_ADDRS. Roles change with failovers: Masters and Replicas
// ask the cluster, they do not remember how it was built.
type TestCluster struct {
	nodes   []*Node // as started (or found): masters first, then replicas
	masters int     // how many of nodes StartCluster made masters; 0 if external
}

// maxMasters keeps a typo from starting thousands of processes.
const maxMasters = 32

// StartCluster starts a cluster, assigns the slots evenly to the masters,
// attaches the replicas and returns once WaitHealthy is satisfied.
func StartCluster(ctx context.Context, opts ClusterOptions) (*TestCluster, error) {
	masters, replicas := opts.Masters, opts.Replicas
	if masters == 0 {
		masters = 3
	}
	if replicas == 0 {
		replicas = 1
	}
	replicas = max(replicas, 0)
	if masters < 1 || masters > maxMasters {
		return nil, fmt.Errorf("redistest: cluster needs 1 to %d masters, not %d", maxMasters, masters)
	}
	nodeOpts := NodeOptions{Password: opts.Password, TLS: opts.TLS, Cluster: true, Config: opts.Config}
	nodes := make([]*Node, masters*(1+replicas))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { nodes[i], errs[i] = startNode(ctx, nodeOpts) })
	}
	wg.Wait()
	c := &TestCluster{masters: masters}
	for _, n := range nodes {
		if n != nil {
			c.nodes = append(c.nodes, n)
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.build(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// NewCluster starts a private cluster for one test and stops it when the
// test ends. It costs a few seconds: prefer the shared Cluster() for tests
// that leave it healthy.
func NewCluster(t testing.TB, opts ClusterOptions) *TestCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mainStartTimeout)
	defer cancel()
	c, err := StartCluster(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// Nodes returns every node of the cluster, running or not.
func (c *TestCluster) Nodes() []*Node { return append([]*Node(nil), c.nodes...) }

// Addrs returns every node's address.
func (c *TestCluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// Stop stops every node of a harness cluster.
func (c *TestCluster) Stop() error {
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Stop())
	}
	return errors.Join(errs...)
}

// node finds a node by cluster ID.
func (c *TestCluster) node(id string) *Node {
	for _, n := range c.nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// running lists the nodes whose process runs and is not paused.
func (c *TestCluster) running() []*Node {
	var nodes []*Node
	for _, n := range c.nodes {
		if n.Running() {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// anyView returns the CLUSTER NODES of the first running node that answers.
func (c *TestCluster) anyView(ctx context.Context) (*clusterView, error) {
	var errs []error
	for _, n := range c.running() {
		v, err := n.view(ctx)
		if err == nil {
			return v, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errors.New("redistest: no cluster node is running")
	}
	return nil, errors.Join(errs...)
}

// roleTimeout bounds the query behind Masters and Replicas.
const roleTimeout = 5 * time.Second

// Masters returns the nodes that are masters now, as a running node sees
// the cluster (a killed master stays a master until its replica takes over).
// If no node answers it returns nil.
func (c *TestCluster) Masters() []*Node { return c.byRole(true) }

// Replicas returns the nodes that are replicas now (see Masters).
func (c *TestCluster) Replicas() []*Node { return c.byRole(false) }

func (c *TestCluster) byRole(master bool) []*Node {
	ctx, cancel := context.WithTimeout(context.Background(), roleTimeout)
	defer cancel()
	v, err := c.anyView(ctx)
	if err != nil {
		return nil
	}
	return c.withRole(v, master)
}

// withRole lists the nodes that v holds as masters (or replicas).
func (c *TestCluster) withRole(v *clusterView, master bool) []*Node {
	var nodes []*Node
	for _, n := range c.nodes {
		if vn := v.nodes[n.ID]; vn != nil && vn.isMaster() == master {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// MasterOf returns the node that serves slot.
func (c *TestCluster) MasterOf(ctx context.Context, slot int) (*Node, error) {
	if err := checkSlot(slot); err != nil {
		return nil, err
	}
	v, err := c.anyView(ctx)
	if err != nil {
		return nil, err
	}
	return c.ownerIn(v, slot)
}

func checkSlot(slot int) error {
	if slot < 0 || slot >= numSlots {
		return fmt.Errorf("redistest: slot %d out of range", slot)
	}
	return nil
}

// ownerIn returns the node that v says serves slot.
func (c *TestCluster) ownerIn(v *clusterView, slot int) (*Node, error) {
	id := v.owners[slot]
	if n := c.node(id); n != nil {
		return n, nil
	}
	return nil, fmt.Errorf("redistest: slot %d has no known owner (%q)", slot, id)
}

// ReplicaOf returns a replica of master: the first running one by node ID
// (the one Failover promotes), else the first.
func (c *TestCluster) ReplicaOf(ctx context.Context, master *Node) (*Node, error) {
	v, err := c.anyView(ctx)
	if err != nil {
		return nil, err
	}
	return c.replicaIn(v, master)
}

func (c *TestCluster) replicaIn(v *clusterView, master *Node) (*Node, error) {
	var first *Node
	for _, id := range v.replicasOf(master.ID) {
		n := c.node(id)
		if n == nil {
			continue
		}
		if n.Running() {
			return n, nil
		}
		if first == nil {
			first = n
		}
	}
	if first == nil {
		return nil, fmt.Errorf("redistest: %s has no replica", master)
	}
	return first, nil
}

// NodeByAddr returns the node with that address (as in a MOVED reply), or
// nil.
func (c *TestCluster) NodeByAddr(addr string) *Node {
	for _, n := range c.nodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// FlushAll empties every running master (FLUSHALL SYNC); replicas follow.
func (c *TestCluster) FlushAll(ctx context.Context) error {
	return eachNode(c.Masters(), func(_ int, n *Node) error {
		if !n.Running() {
			return nil
		}
		_, err := n.Do(ctx, "FLUSHALL", "SYNC")
		return err
	})
}
