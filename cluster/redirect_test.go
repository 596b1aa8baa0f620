package cluster

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/slots"
)

// otherMaster returns a master that isn't n.
func otherMaster(t *testing.T, n *redistest.Node) *redistest.Node {
	t.Helper()
	for _, m := range redistest.Cluster().Masters() {
		if m != n {
			return m
		}
	}
	t.Fatal("the cluster has a single master")
	return nil
}

// moveSlotBack puts slot back on its owner when the test ends.
func moveSlotBack(t *testing.T, slot int, owner *redistest.Node) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, redistest.Cluster().MigrateSlot(ctx, slot, owner))
	})
}

func TestMovedUpdatesRouting(t *testing.T) {
	c := newTestClient(t, nil)
	// Two more clients whose tables go stale too: one for a batch, one for
	// a transaction.
	batchClient, txnClient := newTestClient(t, nil), newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	key := uniqueKey(t, "k")
	tag := "{" + key + "}"
	slot := int(slots.Slot(key))
	_, err := c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)

	cl := redistest.Cluster()
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := otherMaster(t, from)
	moveSlotBack(t, slot, from)
	require.NoError(t, cl.MigrateSlot(ctx, slot, to))

	require.Equal(t, from.Addr, c.table.Load().pick(slot, false).addr, "the client can't know yet")
	v, err := c.Do(ctx, "GET", key)
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "v", s)
	assert.Equal(t, to.Addr, c.table.Load().pick(slot, false).addr, "MOVED updated the slot at once")

	// The refresh the MOVED triggered brings the topology up to date too.
	require.Eventually(t, func() bool {
		sh, ok := c.Topology().ShardFor(uint16(slot))
		return ok && sh.Master.Addr == to.Addr
	}, 10*time.Second, 10*time.Millisecond)

	// A batch follows the MOVED of its commands and keeps their order.
	replies, err := batchClient.DoMulti(ctx, []string{"GET", key}, []string{"SET", tag + "b", "b"}, []string{"GET", tag + "b"})
	require.NoError(t, err)
	for i, want := range []string{"v", "OK", "b"} {
		s, err := replies[i].Text()
		require.NoError(t, err)
		assert.Equal(t, want, s, "reply %d", i)
	}
	assert.Equal(t, to.Addr, batchClient.table.Load().pick(slot, false).addr)

	// A transaction is sent again, whole, to the new owner.
	replies, err = txnClient.DoMulti(ctx, []string{"MULTI"}, []string{"INCR", tag + "n"}, []string{"INCR", tag + "n"}, []string{"EXEC"})
	require.NoError(t, err)
	require.Len(t, replies, 4)
	require.NoError(t, replies[3].Err())
	require.Len(t, replies[3].Elems(), 2)
	n, err := replies[3].Elems()[1].Int()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
}

func TestAskDuringMigration(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	tag := "{" + uniqueKey(t, "") + "}"
	moving, staying := tag+"moving", tag+"staying"
	slot := int(slots.Slot(tag))
	for _, k := range []string{moving, staying} {
		_, err := c.Do(ctx, "SET", k, k)
		require.NoError(t, err)
	}

	cl := redistest.Cluster()
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := otherMaster(t, from)
	m, err := cl.StartMigration(ctx, slot, to)
	require.NoError(t, err)
	moveSlotBack(t, slot, from)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, m.Finish(ctx))
	})
	require.NoError(t, m.MoveKeys(ctx, moving))

	// The source no longer has the key: it answers ASK, the client follows.
	for _, k := range []string{moving, staying, moving} {
		v, err := c.Do(ctx, "GET", k)
		require.NoError(t, err, k)
		s, _ := v.Text()
		assert.Equal(t, k, s)
	}
	// So does a batch, each command on its own path.
	replies, err := c.DoMulti(ctx, []string{"GET", moving}, []string{"GET", staying})
	require.NoError(t, err)
	for i, k := range []string{moving, staying} {
		s, err := replies[i].Text()
		require.NoError(t, err)
		assert.Equal(t, k, s)
	}
	// ASK never changes the table: the slot is still the source's.
	assert.Equal(t, from.Addr, c.table.Load().pick(slot, false).addr)
	// The target really holds the moved key.
	_, err = to.Do(ctx, "GET", moving)
	require.ErrorContains(t, err, "MOVED", "the target serves it only after ASKING")
}

// infoCount reads one counter from an INFO section line such as
// "cmdstat_get:calls=3,usec=..." (field "cmdstat_get", counter "calls").
func infoCount(t *testing.T, ctx context.Context, n *redistest.Node, section, field, counter string) int {
	t.Helper()
	stats, err := n.Info(ctx, section)
	require.NoError(t, err)
	line, ok := stats[field]
	if !ok {
		return 0
	}
	value, _, _ := strings.Cut(strings.TrimPrefix(line, counter+"="), ",")
	k, err := strconv.Atoi(value)
	require.NoError(t, err, line)
	return k
}

// commandCalls is how many times a node ran cmd.
func commandCalls(t *testing.T, ctx context.Context, n *redistest.Node, cmd string) int {
	return infoCount(t, ctx, n, "commandstats", "cmdstat_"+cmd, "calls")
}

// errorCount is how many error replies of a kind a node gave.
func errorCount(t *testing.T, ctx context.Context, n *redistest.Node, code string) int {
	return infoCount(t, ctx, n, "errorstats", "errorstat_"+code, "count")
}

func TestReadReplicas(t *testing.T) {
	c := newTestClient(t, &Options{ReadReplicas: true})
	ctx := testContext(t, 30*time.Second)
	cl := redistest.Cluster()
	key := uniqueKey(t, "k")
	slot := int(slots.Slot(key))
	master, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	replica, err := cl.ReplicaOf(ctx, master)
	require.NoError(t, err)

	_, err = c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	waitReplicaHas(t, ctx, replica, key, "v")
	// Earlier fault tests may have left the replica resyncing: the client
	// routes reads to it only once the topology reports it online.
	waitReplicaRouted(t, ctx, c, slot, replica)

	// strlen is a read nobody else sends to this cluster's nodes.
	masterBefore := commandCalls(t, ctx, master, "strlen")
	replicaBefore := commandCalls(t, ctx, replica, "strlen")
	const reads = 50
	for range reads {
		v, err := c.Do(ctx, "STRLEN", key)
		require.NoError(t, err)
		n, err := v.Int()
		require.NoError(t, err, "STRLEN replied %v", v)
		require.Equal(t, int64(1), n)
	}
	assert.Equal(t, masterBefore, commandCalls(t, ctx, master, "strlen"), "no read went to the master")
	assert.Equal(t, replicaBefore+reads, commandCalls(t, ctx, replica, "strlen"), "every read went to the replica")

	// A redialled replica connection is READONLY from the start (the
	// OnConnect hook): reads go to the replica again, none refused.
	movedBefore := errorCount(t, ctx, replica, "MOVED")
	_, err = replica.Do(ctx, "CLIENT", "KILL", "TYPE", "normal")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		before := commandCalls(t, ctx, replica, "strlen")
		v, err := c.Do(ctx, "STRLEN", key)
		if errors.Is(err, conn.ErrClosed) {
			return false // written to the killed connection before the client saw it die
		}
		require.NoError(t, err)
		n, err := v.Int()
		require.NoError(t, err, "STRLEN replied %v", v)
		require.Equal(t, int64(1), n)
		return commandCalls(t, ctx, replica, "strlen") > before
	}, 10*time.Second, time.Millisecond, "reads go back to the replica")
	assert.Equal(t, movedBefore, errorCount(t, ctx, replica, "MOVED"), "the replica refused no read")

	// Writes still go to the master.
	_, err = c.Do(ctx, "SET", key, "w")
	require.NoError(t, err)
	waitReplicaHas(t, ctx, replica, key, "w")
	v, err := c.Do(ctx, "GET", key)
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "w", s)
}

// waitReplicaHas waits until replica serves value for key. (WAIT can't
// tell: it counts the acknowledgements of the writes of its own connection,
// and the write was the client's.)
func waitReplicaHas(t *testing.T, ctx context.Context, replica *redistest.Node, key, value string) {
	t.Helper()
	require.Eventually(t, func() bool {
		replies, err := replica.DoMulti(ctx, []string{"READONLY"}, []string{"GET", key})
		if err != nil || len(replies) != 2 {
			return false
		}
		got, err := replies[1].Text()
		return err == nil && got == value
	}, 20*time.Second, 5*time.Millisecond, "%s has %s = %q", replica, key, value)
}

// waitReplicaRouted refreshes c's topology until reads of slot go to
// replica.
func waitReplicaRouted(t *testing.T, ctx context.Context, c *Client, slot int, replica *redistest.Node) {
	t.Helper()
	require.Eventually(t, func() bool {
		if _, err := c.Refresh(ctx); err != nil {
			return false
		}
		s := c.table.Load().slots[slot]
		return s != nil && len(s.replicas) == 1 && s.replicas[0].addr == replica.Addr
	}, 20*time.Second, 10*time.Millisecond, "the topology reports %s online", replica)
}

// TestReadReplicasKeepsOnConnect: a hook given in Options.Conn still runs on
// node connections when ReadReplicas adds READONLY to it, and ConnOptions
// returns the caller's options, without READONLY.
func TestReadReplicasKeepsOnConnect(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	c := newTestClient(t, &Options{ReadReplicas: true, Conn: conn.Options{
		OnConnect: func(ctx context.Context, cn *conn.Conn) error {
			_, err := cn.Do(ctx, "CLIENT", "SETNAME", "hooked")
			return err
		},
	}})
	v, err := c.Do(ctx, "CLIENT", "GETNAME")
	require.NoError(t, err)
	name, err := v.Text()
	require.NoError(t, err)
	assert.Equal(t, "hooked", name)
	v, err = c.Do(ctx, "CLIENT", "INFO")
	require.NoError(t, err)
	info, err := v.Text()
	require.NoError(t, err)
	_, flags, _ := strings.Cut(info, " flags=")
	flags, _, _ = strings.Cut(flags, " ")
	assert.Contains(t, flags, "r", "the connection is READONLY too (flags %q; t is tracking)", flags)

	// A connection made with ConnOptions (as pubsub makes them) runs the
	// caller's hook only.
	opts := c.ConnOptions()
	cn, err := conn.Dial(ctx, redistest.Cluster().Masters()[0].Addr, &opts)
	require.NoError(t, err)
	defer cn.Close()
	require.NoError(t, opts.OnConnect(ctx, cn))
	v, err = cn.Do(ctx, "CLIENT", "INFO")
	require.NoError(t, err)
	info, err = v.Text()
	require.NoError(t, err)
	assert.Contains(t, info, " name=hooked ")
	assert.NotContains(t, info, "flags=r")
}
