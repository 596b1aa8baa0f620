package redistest

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultTimeout bounds one fault test on the shared cluster.
const faultTimeout = 30 * time.Second

func faultContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// keySlot asks the cluster for a key's slot.
func keySlot(t *testing.T, ctx context.Context, n *Node, key string) int {
	t.Helper()
	v, err := n.Do(ctx, "CLUSTER", "KEYSLOT", key)
	require.NoError(t, err)
	return int(must(v.Int()))
}

func TestClusterShape(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	require.NoError(t, c.WaitHealthy(ctx))
	assert.Len(t, c.Addrs(), 6)
	masters, replicas := c.Masters(), c.Replicas()
	require.Len(t, masters, 3)
	require.Len(t, replicas, 3)
	for _, m := range masters {
		r, err := c.ReplicaOf(ctx, m)
		require.NoError(t, err)
		assert.Contains(t, replicas, r)
		v, err := r.Do(ctx, "ROLE")
		require.NoError(t, err)
		assert.Equal(t, "slave", must(v.Elems()[0].Text()))
		assert.EqualValues(t, m.Port, must(v.Elems()[2].Int()), "replica of the right master")
	}
	for _, slot := range []int{0, 5000, 16383} {
		owner, err := c.MasterOf(ctx, slot)
		require.NoError(t, err)
		assert.Contains(t, masters, owner)
	}
	cfg, err := masters[0].Do(ctx, "CONFIG", "GET", "cluster-node-timeout")
	require.NoError(t, err)
	assert.Equal(t, "2000", must(cfg.Elems()[1].Text()))
}

func TestMigrateSlot(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	keys := []string{"{mig}a", "{mig}b", "{mig}c"}
	slot := keySlot(t, ctx, c.Masters()[0], keys[0])
	from, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	for _, k := range keys {
		_, err := from.Do(ctx, "SET", k, "value of "+k)
		require.NoError(t, err)
	}
	var to *Node
	for _, m := range c.Masters() {
		if m != from {
			to = m
			break
		}
	}

	require.NoError(t, c.MigrateSlot(ctx, slot, to))
	t.Cleanup(func() { assert.NoError(t, c.MigrateSlot(context.Background(), slot, from), "move the slot back") })

	owner, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	assert.Equal(t, to, owner)
	count, err := to.Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(slot))
	require.NoError(t, err)
	assert.EqualValues(t, len(keys), must(count.Int()))
	assert.Equal(t, slot, keySlot(t, ctx, to, keys[1]))
	for _, k := range keys {
		v, err := to.Do(ctx, "GET", k)
		require.NoError(t, err)
		assert.Equal(t, "value of "+k, must(v.Text()))
	}
	_, err = from.Do(ctx, "GET", keys[0])
	assert.ErrorContains(t, err, "MOVED "+strconv.Itoa(slot)+" "+to.Addr)
	require.NoError(t, c.WaitHealthy(ctx))
	require.NoError(t, c.MigrateSlot(ctx, slot, to), "moving a slot to its owner is a no-op")
}

func TestMigrationHalfway(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	slot := keySlot(t, ctx, c.Masters()[0], "{half}moved")
	from, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := c.Masters()[0]
	if to == from {
		to = c.Masters()[1]
	}
	for _, k := range []string{"{half}moved", "{half}stays"} {
		_, err := from.Do(ctx, "SET", k, "1")
		require.NoError(t, err)
	}

	m, err := c.StartMigration(ctx, slot, to)
	require.NoError(t, err)
	require.NoError(t, m.MoveKeys(ctx, "{half}moved"))
	_, err = from.Do(ctx, "GET", "{half}moved")
	assert.ErrorContains(t, err, "ASK "+strconv.Itoa(slot)+" "+to.Addr, "a moved key is asked for at the target")
	_, err = from.Do(ctx, "GET", "{half}stays")
	assert.NoError(t, err, "a key not moved yet is still served by the source")
	require.NoError(t, m.Finish(ctx))
	require.NoError(t, c.WaitHealthy(ctx))
	require.NoError(t, c.MigrateSlot(ctx, slot, from))
}

func TestFailover(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	master := c.Masters()[1]
	replica, err := c.ReplicaOf(ctx, master)
	require.NoError(t, err)
	slot := ownedSlot(t, ctx, c, master)

	require.NoError(t, c.Failover(ctx, master))
	owner, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	assert.Equal(t, replica, owner, "the replica took over")
	assert.Contains(t, c.Replicas(), master, "the old master is a replica now")
	info, err := master.Info(ctx, "replication")
	require.NoError(t, err)
	assert.Equal(t, "slave", info["role"])

	require.NoError(t, c.Failover(ctx, replica), "fail back")
	owner, err = c.MasterOf(ctx, slot)
	require.NoError(t, err)
	assert.Equal(t, master, owner)
}

// ownedSlot returns the first slot master owns.
func ownedSlot(t *testing.T, ctx context.Context, c *TestCluster, master *Node) int {
	t.Helper()
	for slot := 0; slot < numSlots; slot += 100 {
		owner, err := c.MasterOf(ctx, slot)
		require.NoError(t, err)
		if owner == master {
			return slot
		}
	}
	t.Fatalf("%s owns no slot", master)
	return 0
}

func TestKillMasterRestart(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	master := c.Masters()[2]
	replica, err := c.ReplicaOf(ctx, master)
	require.NoError(t, err)
	slot := ownedSlot(t, ctx, c, master)
	pid := master.PID()

	require.NoError(t, master.Kill())
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH)
	require.NoError(t, c.Failover(ctx, master), "failover of a dead master")
	owner, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	assert.Equal(t, replica, owner)

	require.NoError(t, master.Restart(ctx))
	require.NoError(t, c.WaitHealthy(ctx), "the restarted node rejoins")
	info, err := master.Info(ctx, "replication")
	require.NoError(t, err)
	assert.Equal(t, "slave", info["role"], "it comes back as a replica of its old replica")
	assert.Equal(t, strconv.Itoa(replica.Port), info["master_port"])

	require.NoError(t, c.Failover(ctx, replica), "restore the original layout")
}

func TestPauseReplica(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	replica := c.Replicas()[0]
	require.NoError(t, replica.Pause())
	t.Cleanup(func() { replica.Resume() })
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err := replica.Do(short, "PING")
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, c.WaitHealthy(ctx), "a paused replica is left out of the health check")

	require.NoError(t, replica.Resume())
	require.NoError(t, c.WaitHealthy(ctx))
	assert.Contains(t, c.Replicas(), replica)
}

func TestExternalCluster(t *testing.T) {
	ctx := faultContext(t)
	ext, err := externalCluster(ctx, Cluster().Addrs()[:1])
	require.NoError(t, err)
	assert.ElementsMatch(t, Cluster().Addrs(), ext.Addrs(), "every node is found from one seed")
	require.NoError(t, ext.WaitHealthy(ctx))
	m := ext.Masters()[0]
	assert.ErrorIs(t, m.Kill(), ErrExternal)
	assert.ErrorIs(t, m.Pause(), ErrExternal)
	assert.ErrorIs(t, m.Restart(ctx), ErrExternal)
	assert.Zero(t, m.PID())
	owner, err := ext.MasterOf(ctx, 0)
	require.NoError(t, err)
	want, err := Cluster().MasterOf(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, want.Addr, owner.Addr)
}

func TestClusterHelpersRefuseBadInput(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	_, err := c.MasterOf(ctx, -1)
	assert.Error(t, err)
	_, err = c.MasterOf(ctx, numSlots)
	assert.Error(t, err)

	owner, err := c.MasterOf(ctx, 42)
	require.NoError(t, err)
	_, err = c.StartMigration(ctx, 42, owner)
	assert.ErrorContains(t, err, "already belongs")
	replica, err := c.ReplicaOf(ctx, owner)
	require.NoError(t, err)
	_, err = c.StartMigration(ctx, 42, replica)
	assert.ErrorContains(t, err, "not a master")
	assert.ErrorContains(t, c.Failover(ctx, replica), "no replica")

	assert.Equal(t, owner, c.NodeByAddr(owner.Addr))
	assert.Nil(t, c.NodeByAddr("127.0.0.1:1"))
	require.NoError(t, c.WaitHealthy(ctx))
}

func TestFlushAll(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	slot := keySlot(t, ctx, c.Masters()[0], "flushed")
	owner, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	_, err = owner.Do(ctx, "SET", "flushed", "1")
	require.NoError(t, err)
	require.NoError(t, c.FlushAll(ctx))
	v, err := owner.Do(ctx, "DBSIZE")
	require.NoError(t, err)
	assert.Zero(t, must(v.Int()))
}

// TestAutomaticFailover kills a master and lets the cluster replace it on
// its own, as clients see it in production: WaitHealthy covers the wait.
func TestAutomaticFailover(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	master := c.Masters()[0]
	replica, err := c.ReplicaOf(ctx, master)
	require.NoError(t, err)
	slot := ownedSlot(t, ctx, c, master)

	start := time.Now()
	require.NoError(t, master.Kill())
	require.NoError(t, c.WaitHealthy(ctx))
	t.Logf("the cluster replaced a killed master in %v", time.Since(start).Round(time.Millisecond))
	owner, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	assert.Equal(t, replica, owner)

	require.NoError(t, master.Restart(ctx))
	require.NoError(t, c.WaitHealthy(ctx))
	require.NoError(t, c.Failover(ctx, replica), "restore the original layout")
}

// TestReset injects several faults at once and checks that Reset undoes
// them all: roles, slot owners and processes are as StartCluster made them.
func TestReset(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	c.LogOnFailure(t)
	built := c.Nodes()
	masters := built[:3]
	owners := map[int]*Node{}
	for _, slot := range []int{0, 1, 6000, 16383} {
		owner, err := c.MasterOf(ctx, slot)
		require.NoError(t, err)
		owners[slot] = owner
	}

	require.NoError(t, c.Failover(ctx, masters[0]))
	require.NoError(t, c.MigrateSlot(ctx, 1, masters[2]))
	require.NoError(t, c.MigrateSlot(ctx, 16383, masters[1]))
	replica, err := c.ReplicaOf(ctx, masters[1])
	require.NoError(t, err)
	require.NoError(t, replica.Kill())
	other, err := c.ReplicaOf(ctx, masters[2])
	require.NoError(t, err)
	require.NoError(t, other.Pause())

	require.NoError(t, c.Reset(ctx))
	assert.Equal(t, masters, c.Masters())
	for slot, want := range owners {
		owner, err := c.MasterOf(ctx, slot)
		require.NoError(t, err)
		assert.Equal(t, want, owner, "slot %d", slot)
	}
	for _, n := range built {
		assert.True(t, n.Running(), "%s runs", n)
	}
	require.NoError(t, c.WaitHealthy(ctx))
}

// TestFailoverPausedMaster fails over a shard whose master is frozen
// (FAILOVER FORCE): the master, resumed, finds itself a replica.
func TestFailoverPausedMaster(t *testing.T) {
	ctx := faultContext(t)
	c := Cluster()
	c.LogOnFailure(t)
	t.Cleanup(func() { assert.NoError(t, c.Reset(context.Background())) })
	master := c.Masters()[1]
	replica, err := c.ReplicaOf(ctx, master)
	require.NoError(t, err)
	slot := ownedSlot(t, ctx, c, master)

	require.NoError(t, master.Pause())
	require.NoError(t, c.Failover(ctx, master))
	owner, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	assert.Equal(t, replica, owner)

	require.NoError(t, master.Resume())
	require.NoError(t, c.WaitHealthy(ctx))
	assert.Contains(t, c.Replicas(), master, "the resumed master learns it was replaced")
}
