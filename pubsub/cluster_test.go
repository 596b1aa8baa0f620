package pubsub

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/slots"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newClusterClient returns a cluster client on the harness cluster, closed
// when the test ends.
func newClusterClient(t testing.TB, name string) *cluster.Client {
	t.Helper()
	c, err := cluster.New(testContext(t), &cluster.Options{
		Addrs: redistest.Cluster().Addrs(),
		Conn:  conn.Options{ClientName: name},
	})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// newClusterSubscriber returns a Subscriber on the harness cluster whose own
// connections are named name (the cluster client's are not), closed when
// the test ends.
func newClusterSubscriber(t testing.TB, name string) *Subscriber {
	t.Helper()
	s, err := NewCluster(testContext(t), newClusterClient(t, name+"-routing"))
	require.NoError(t, err)
	s.opts.ClientName = name // before the first dial
	t.Cleanup(func() { s.Close() })
	return s
}

// clusterClientsNamed counts the connections named name on every node.
func clusterClientsNamed(t testing.TB, name string) int {
	t.Helper()
	n := 0
	for _, node := range redistest.Cluster().Nodes() {
		if node.Running() {
			n += clientsNamed(t, node, name)
		}
	}
	return n
}

// shardNumsub sums PUBSUB SHARDNUMSUB for channels over the masters (each
// counts the subscribers it holds).
func shardNumsub(t testing.TB, channels []string) int64 {
	t.Helper()
	var total int64
	for _, node := range redistest.Cluster().Masters() {
		total += numsub(t, node, "SHARDNUMSUB", channels...)
	}
	return total
}

// channelsOnEveryMaster returns n shard channels in n distinct slots, spread
// over all the masters (at least one on each).
func channelsOnEveryMaster(t testing.TB, prefix string, n int) []string {
	t.Helper()
	chans := distinctSlots(prefix, n)
	owners := make(map[string]bool)
	for _, ch := range chans {
		m, err := redistest.Cluster().MasterOf(testContext(t), int(slots.Slot(ch)))
		require.NoError(t, err)
		owners[m.Addr] = true
	}
	require.Len(t, owners, len(redistest.Cluster().Masters()), "channels on every master")
	return chans
}

// channelOn returns a shard channel, starting with prefix, whose slot master
// owns, other than the ones in avoid.
func channelOn(t testing.TB, master *redistest.Node, prefix string, avoid ...string) string {
	t.Helper()
	ctx := testContext(t)
	for _, ch := range distinctSlots(prefix, 64) {
		m, err := redistest.Cluster().MasterOf(ctx, int(slots.Slot(ch)))
		require.NoError(t, err)
		if m.Addr == master.Addr && !slices.Contains(avoid, ch) {
			return ch
		}
	}
	t.Fatalf("no channel on %s", master)
	return ""
}

// publishOnce publishes payload once with cmd through the cluster client and
// requires it to arrive next (after any late copy of a payload an earlier
// publishUntil sent more than once): the subscription was live all along.
func publishOnce(t testing.TB, s *Subscriber, pub *cluster.Client, cmd, channel, payload string) {
	t.Helper()
	_, err := pub.Do(testContext(t), cmd, channel, payload)
	require.NoError(t, err)
	m := receiveMessage(t, s)
	for m.Payload != payload && lateCopy(s, m) {
		m = receiveMessage(t, s) // a retried publish of an earlier step
	}
	require.Equal(t, channel, m.Channel)
	require.Equal(t, payload, m.Payload)
}

// publishUntilCluster is publishUntil through the cluster client.
func publishUntilCluster(t testing.TB, s *Subscriber, pub *cluster.Client, cmd, channel, payload string) Message {
	t.Helper()
	return publishUntilFunc(t, s, payload, func() error {
		ctx, cancel := context.WithTimeout(testContext(t), time.Second)
		defer cancel()
		_, err := pub.Do(ctx, cmd, channel, payload)
		if err != nil {
			t.Logf("publish: %v", err)
		}
		return err
	})
}

// The seed race, across the cluster: many shard channels on all three
// masters, unsubscribed at once from as many goroutines, twenty times.
func TestClusterConcurrentUnsubscribe(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("seed")
	s := newClusterSubscriber(t, name)
	for round := range 20 {
		chans := channelsOnEveryMaster(t, name+"-"+strconv.Itoa(round)+"-", 48)
		require.NoError(t, s.SSubscribe(ctx, chans...))
		require.EqualValues(t, len(chans), shardNumsub(t, chans), "round %d", round)
		require.Equal(t, 3, clusterClientsNamed(t, name), "round %d: one connection per master", round)

		unsubscribeAtOnce(t, chans, func(ch string) error { return s.SUnsubscribe(ctx, ch) }, "round %d", round)
		require.Zero(t, shardNumsub(t, chans), "round %d: subscriptions left", round)
		require.Empty(t, s.nodeLinks(), "round %d", round)
		eventually(t, "the node connections are gone", func() bool { return clusterClientsNamed(t, name) == 0 })
	}
}

// Subscribe while closing: one goroutine unsubscribes a node's last shard
// channel while another subscribes a new one on the same node; afterwards
// the new channel receives.
func TestClusterSubscribeWhileClosing(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("handover")
	s := newClusterSubscriber(t, name)
	pub := newClusterClient(t, name+"-pub")
	master := redistest.Cluster().Masters()[0]
	for round := range 20 {
		old := channelOn(t, master, name+"-old"+strconv.Itoa(round)+"-")
		fresh := channelOn(t, master, name+"-new"+strconv.Itoa(round)+"-", old)
		require.NoError(t, s.SSubscribe(ctx, old))

		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, s.SUnsubscribe(ctx, old)) })
		wg.Go(func() { assert.NoError(t, s.SSubscribe(ctx, fresh)) })
		wg.Wait()

		publishOnce(t, s, pub, "SPUBLISH", fresh, "round "+strconv.Itoa(round))
		require.Zero(t, shardNumsub(t, []string{old}))
		require.NoError(t, s.SUnsubscribe(ctx, fresh))
	}
	eventually(t, "the node connection is gone", func() bool { return clusterClientsNamed(t, name) == 0 })
}

// Channels in hundreds of slots in one call: one SSUBSCRIBE per slot, each at
// its slot's master, all confirmed when the call returns.
func TestClusterManySlotsInOneCall(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("many")
	s := newClusterSubscriber(t, name)
	pub := newClusterClient(t, name+"-pub")
	chans := channelsOnEveryMaster(t, name+"-", 500)
	require.NoError(t, s.SSubscribe(ctx, chans...))
	require.EqualValues(t, len(chans), shardNumsub(t, chans))
	require.Equal(t, 3, clusterClientsNamed(t, name), "one connection per master")
	for _, ch := range []string{chans[0], chans[250], chans[499]} {
		publishOnce(t, s, pub, "SPUBLISH", ch, "to "+ch)
	}
	require.NoError(t, s.SUnsubscribe(ctx)) // all
	require.Zero(t, shardNumsub(t, chans))
	require.Empty(t, s.nodeLinks())
}

// Reconnect in a cluster: every subscriber connection is killed; each is
// dialled again (after a topology read) and its subscriptions restored.
func TestClusterReconnectAfterClientKill(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("ckill")
	s := newClusterSubscriber(t, name)
	pub := newClusterClient(t, name+"-pub")
	chans := channelsOnEveryMaster(t, name+"-", 12)
	require.NoError(t, s.SSubscribe(ctx, chans...))
	require.NoError(t, s.Subscribe(ctx, name+":ch"))
	require.Equal(t, 4, clusterClientsNamed(t, name))

	for _, node := range redistest.Cluster().Nodes() {
		_, err := node.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub")
		require.NoError(t, err)
	}
	for _, ch := range chans {
		publishUntilCluster(t, s, pub, "SPUBLISH", ch, "back on "+ch)
	}
	publishUntilCluster(t, s, pub, "PUBLISH", name+":ch", "channel back")
	require.EqualValues(t, len(chans), shardNumsub(t, chans), "each channel subscribed once")
	eventually(t, "one connection per master and one for channels", func() bool { return clusterClientsNamed(t, name) == 4 })
}

func TestClusterChannelsAndPatterns(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("global")
	s := newClusterSubscriber(t, name)
	pub := newClusterClient(t, name+"-pub")
	require.NoError(t, s.Subscribe(ctx, name+":ch"))
	require.NoError(t, s.PSubscribe(ctx, name+":p*"))
	require.Equal(t, 1, clusterClientsNamed(t, name), "channels and patterns share one connection")

	// PUBLISH reaches every node, whichever the publisher's goes to.
	publishOnce(t, s, pub, "PUBLISH", name+":ch", "one")
	_, err := pub.Do(ctx, "PUBLISH", name+":pat", "two")
	require.NoError(t, err)
	assert.Equal(t, Message{Kind: KindPMessage, Pattern: name + ":p*", Channel: name + ":pat", Payload: "two"}, receive(t, s))
}

// Slot migration: of two subscribed slots, one moves to another master. The
// server drops its channel; the Subscriber follows it to the new owner. The
// other never stops.
func TestClusterSlotMigration(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("migrate")
	tc := redistest.Cluster()
	s := newClusterSubscriber(t, name)
	pub := newClusterClient(t, name+"-pub")
	masters := tc.Masters()
	from, to := masters[0], masters[1]
	moving := channelOn(t, from, name+"-mv")
	staying := channelOn(t, from, name+"-st", moving)
	slot := int(slots.Slot(moving))
	require.NoError(t, s.SSubscribe(ctx, moving, staying))

	require.NoError(t, tc.MigrateSlot(ctx, slot, to))
	t.Cleanup(func() {
		require.NoError(t, tc.MigrateSlot(testContext(t), slot, from))
		require.NoError(t, tc.WaitHealthy(testContext(t)))
	})
	publishOnce(t, s, pub, "SPUBLISH", staying, "never stopped")
	publishUntilCluster(t, s, pub, "SPUBLISH", moving, "followed")
	assert.EqualValues(t, 1, numsub(t, to, "SHARDNUMSUB", moving), "subscribed at the new owner")
	assert.Zero(t, numsub(t, from, "SHARDNUMSUB", moving))
	gaps := awaitGaps(t, s, moving) // a gap is reported for the channel whose slot moved
	assert.False(t, gapped(gaps, staying), "and not for the one that stayed")

	// And back again.
	require.NoError(t, tc.MigrateSlot(ctx, slot, from))
	publishUntilCluster(t, s, pub, "SPUBLISH", moving, "back")
	publishOnce(t, s, pub, "SPUBLISH", staying, "still there")
	eventually(t, "the connection to the slot's interim owner closes", func() bool {
		return clientsNamed(t, to, name) == 0
	})
}

// Failover: the master holding a shard channel (and maybe the channel
// connection) is killed; once its replica took over, SPUBLISH there is
// received, and so is PUBLISH.
func TestClusterFailover(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("failover")
	tc := redistest.Cluster()
	s := newClusterSubscriber(t, name)
	pub := newClusterClient(t, name+"-pub")
	victim := tc.Masters()[0]
	ch := channelOn(t, victim, name+"-sh")
	require.NoError(t, s.SSubscribe(ctx, ch))
	require.NoError(t, s.Subscribe(ctx, name+":ch"))

	require.NoError(t, victim.Kill())
	t.Cleanup(func() {
		ctx := testContext(t)
		require.NoError(t, victim.Restart(ctx))
		require.NoError(t, tc.WaitHealthy(ctx))
	})
	require.NoError(t, tc.Failover(ctx, victim))
	m := publishUntilCluster(t, s, pub, "SPUBLISH", ch, "after failover")
	assert.Equal(t, KindSMessage, m.Kind)
	publishUntilCluster(t, s, pub, "PUBLISH", name+":ch", "global after failover")
	awaitGaps(t, s, ch) // the global connection may have been elsewhere
}

// A graceful failover demotes the master while it runs: the subscription
// follows the shard to its new master.
func TestClusterManualFailover(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("manual")
	tc := redistest.Cluster()
	s := newClusterSubscriber(t, name)
	pub := newClusterClient(t, name+"-pub")
	master := tc.Masters()[1]
	ch := channelOn(t, master, name+"-sh")
	require.NoError(t, s.SSubscribe(ctx, ch))

	require.NoError(t, tc.Failover(ctx, master))
	t.Cleanup(func() {
		// Give the shard back to the node it started on.
		ctx := testContext(t)
		require.NoError(t, tc.Failover(ctx, mustMasterOf(t, int(slots.Slot(ch)))))
		require.NoError(t, tc.WaitHealthy(ctx))
	})
	publishUntilCluster(t, s, pub, "SPUBLISH", ch, "after demotion")
	awaitGaps(t, s, ch)
}

func mustMasterOf(t testing.TB, slot int) *redistest.Node {
	t.Helper()
	m, err := redistest.Cluster().MasterOf(testContext(t), slot)
	require.NoError(t, err)
	return m
}
