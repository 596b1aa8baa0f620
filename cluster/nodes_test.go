package cluster

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/slots"
)

func TestMastersAndReplicas(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	cl := redistest.Cluster()
	masters := c.Masters()
	require.Len(t, masters, len(cl.Masters()))
	covered := 0
	for _, m := range masters {
		assert.Equal(t, slots.RoleMaster, m.Role)
		assert.Empty(t, m.Master)
		require.NotNil(t, cl.NodeByAddr(m.Addr), "a harness node: %s", m.Addr)
		for _, r := range m.Slots {
			covered += int(r[1]-r[0]) + 1
			owner, err := cl.MasterOf(ctx, int(r[0]))
			require.NoError(t, err)
			assert.Equal(t, owner.Addr, m.Addr)
		}
	}
	assert.Equal(t, slots.NumSlots, covered)

	replicas := c.Replicas()
	require.Len(t, replicas, len(cl.Replicas()))
	for _, r := range replicas {
		assert.Equal(t, slots.RoleReplica, r.Role)
		master := cl.NodeByAddr(r.Master)
		require.NotNil(t, master)
		replica, err := cl.ReplicaOf(ctx, master)
		require.NoError(t, err)
		assert.Equal(t, replica.Addr, r.Addr)
	}
	assert.Len(t, c.Nodes(), len(masters)+len(replicas))
}

func TestNodeDoReachesThatNode(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	for _, n := range c.Nodes() {
		v, err := n.Do(ctx, "CLUSTER", "MYID")
		require.NoError(t, err)
		id, _ := v.Text()
		assert.Equal(t, n.ID, id, "%s answered", n.Addr)
		replies, err := n.DoMulti(ctx, []string{"ECHO", "a"}, []string{"CLUSTER", "MYID"})
		require.NoError(t, err)
		id, _ = replies[1].Text()
		assert.Equal(t, n.ID, id)
	}
	// No redirect is followed: a key of another master is answered MOVED.
	m := c.Masters()[0]
	_, err := m.Do(ctx, "GET", keyForSlot("k", int(c.Masters()[1].Slots[0][0])))
	assert.ErrorContains(t, err, "MOVED")
}

func TestForEachMasterAndNode(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)

	// Concurrent: every call waits until all have started.
	var started sync.WaitGroup
	started.Add(len(c.Masters()))
	var calls atomic.Int64
	err := c.ForEachMaster(ctx, func(ctx context.Context, n Node) error {
		calls.Add(1)
		started.Done()
		started.Wait()
		_, err := n.Do(ctx, "PING")
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, int64(len(c.Masters())), calls.Load())

	var nodes atomic.Int64
	boom := errors.New("boom")
	victim := c.Replicas()[0].Addr
	err = c.ForEachNode(ctx, func(ctx context.Context, n Node) error {
		nodes.Add(1)
		if n.Addr == victim {
			return boom
		}
		return nil
	})
	assert.Equal(t, int64(len(c.Nodes())), nodes.Load(), "masters and online replicas")
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), victim, "the error says which node")
}
