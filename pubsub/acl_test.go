package pubsub

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 20 item 2, pub/sub side: an ACL user allowed pub/sub on news:* only,
// who is refused PING. It subscribes and unsubscribes (Send's barrier is
// one such a user may run), a subscribe outside its channels fails and
// leaves nothing, and the liveness PINGs, answered with NOPERM, count as
// answers: the connection is kept.
func TestPubSubOnlyACLUser(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, proto int) {
		ctx := testContext(t)
		node := redistest.Server()
		user := uniqueName("news")
		require.NoError(t, node.AddUser(ctx, user, "secret", "-@all", "+@pubsub", "&news:*"))
		t.Cleanup(func() { _, _ = node.Do(testContext(t), "ACL", "DELUSER", user) })
		name := uniqueName("acl")
		opts := conn.Options{Username: user, Password: "secret", Protocol: proto}
		if proto == 3 {
			opts.ClientName = name // RESP2 would need CLIENT SETNAME, which is not @pubsub
		}
		s, err := NewWithOptions(ctx, node.Addr, &opts, &Options{PingInterval: 20 * time.Millisecond})
		require.NoError(t, err)
		defer s.Close()

		channel := "news:" + name
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		require.NoError(t, s.Subscribe(callCtx, channel), "the subscribe and its barrier are allowed")
		var re *resp.Error
		err = s.Subscribe(callCtx, "sports:"+name)
		require.ErrorAs(t, err, &re, "a channel outside &news:* is refused")
		assert.Equal(t, "NOPERM", re.Code)
		pub := publisher(t, node.Addr)
		assert.Equal(t, channel, publishUntil(t, s, pub, "PUBLISH", channel, "hello").Channel)

		s.mu.Lock()
		l := s.global
		s.mu.Unlock()
		since := time.Now()
		eventually(t, "refused PINGs are answers", func() bool { return l.live.since().After(since.Add(60 * time.Millisecond)) })
		s.mu.Lock()
		assert.Same(t, l, s.global, "the connection is kept")
		s.mu.Unlock()
		assert.Empty(t, gapsOf(s))
		require.NoError(t, s.Unsubscribe(callCtx, channel))
		assert.Zero(t, numsub(t, node, "NUMSUB", channel, "sports:"+name))
	})
}

// The same user on the cluster: a shard channel's SSUBSCRIBE and its
// barrier are allowed on each master, though PING is not. The cluster
// client needs the topology and the command table too, so the user may run
// CLUSTER SHARDS, CLUSTER SLOTS and COMMAND besides pub/sub.
func TestPubSubOnlyACLUserCluster(t *testing.T) {
	ctx := testContext(t)
	user := uniqueName("news")
	nodes := redistest.Cluster().Nodes()
	for _, n := range nodes {
		require.NoError(t, n.AddUser(ctx, user, "secret", "-@all", "+@pubsub", "+cluster|shards", "+cluster|slots", "+command", "&news:*"))
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if n.Running() {
				_, _ = n.Do(testContext(t), "ACL", "DELUSER", user)
			}
		}
	})
	cc, err := cluster.New(ctx, &cluster.Options{
		Addrs: redistest.Cluster().Addrs(),
		Conn:  conn.Options{Username: user, Password: "secret"},
	})
	require.NoError(t, err)
	defer cc.Close()
	s, err := NewClusterWithOptions(ctx, cc, &Options{PingInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	defer s.Close()

	name := uniqueName("acl")
	var chans []string
	for i, m := range redistest.Cluster().Masters() {
		chans = append(chans, channelOn(t, m, "news:"+name+"-"+strconv.Itoa(i)+"-"))
	}
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, s.SSubscribe(callCtx, chans...), "SSUBSCRIBE and its barrier are allowed on every master")
	pub := newClusterClient(t, name+"-pub")
	for _, ch := range chans {
		assert.Equal(t, ch, publishUntilCluster(t, s, pub, "SPUBLISH", ch, "hello").Channel)
	}
	assert.Empty(t, gapsOf(s), "refused PINGs are answers: no link was replaced")
	require.NoError(t, s.SUnsubscribe(callCtx, chans...))
	assert.Zero(t, shardNumsub(t, chans))
}
