package pubsub

import (
	"strconv"
	"sync"
	"testing"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newRESP2Subscriber returns a Subscriber on the standalone server that
// speaks RESP2, its connections named name.
func newRESP2Subscriber(t testing.TB, name string) *Subscriber {
	t.Helper()
	s, err := New(testContext(t), redistest.Server().Addr, &conn.Options{ClientName: name, Protocol: 2})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRESP2EveryKind(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("resp2")
	node := redistest.Server()
	s := newRESP2Subscriber(t, name)
	pub := publisher(t, node.Addr)

	require.NoError(t, s.Subscribe(ctx, name+":ch"))
	require.NoError(t, s.PSubscribe(ctx, name+":p*"))
	require.NoError(t, s.SSubscribe(ctx, name+":sh"))
	clients, err := node.Clients(ctx)
	require.NoError(t, err)
	n := 0
	for _, c := range clients {
		if c.Name == name {
			assert.Equal(t, "2", c.Fields["resp"], "the connection speaks RESP2")
			n++
		}
	}
	assert.Equal(t, 2, n, "channel and shard connections")

	_, err = pub.Do(ctx, "PUBLISH", name+":ch", "one")
	require.NoError(t, err)
	assert.Equal(t, Message{Kind: KindMessage, Channel: name + ":ch", Payload: "one"}, receive(t, s))
	_, err = pub.Do(ctx, "PUBLISH", name+":pat", "two")
	require.NoError(t, err)
	assert.Equal(t, Message{Kind: KindPMessage, Pattern: name + ":p*", Channel: name + ":pat", Payload: "two"}, receive(t, s))
	_, err = pub.Do(ctx, "SPUBLISH", name+":sh", "three")
	require.NoError(t, err)
	assert.Equal(t, Message{Kind: KindSMessage, Channel: name + ":sh", Payload: "three"}, receive(t, s))

	require.NoError(t, s.Unsubscribe(ctx))
	require.NoError(t, s.PUnsubscribe(ctx))
	require.NoError(t, s.SUnsubscribe(ctx))
	assert.Zero(t, numsub(t, node, "NUMSUB", name+":ch"))
	assert.Zero(t, numsub(t, node, "SHARDNUMSUB", name+":sh"))
	eventually(t, "the shard connection closes", func() bool { return clientsNamed(t, node, name) == 1 })
}

// The seed race on RESP2 connections.
func TestRESP2ConcurrentUnsubscribe(t *testing.T) {
	node := redistest.Server()
	ctx := testContext(t)
	name := uniqueName("resp2seed")
	s := newRESP2Subscriber(t, name)
	for round := range 10 {
		chans := names(name+":"+strconv.Itoa(round), 32)
		require.NoError(t, s.SSubscribe(ctx, chans...))
		require.NoError(t, s.Subscribe(ctx, chans...))
		var wg sync.WaitGroup
		for _, ch := range chans {
			wg.Go(func() { assert.NoError(t, s.SUnsubscribe(ctx, ch)) })
			wg.Go(func() { assert.NoError(t, s.Unsubscribe(ctx, ch)) })
		}
		wg.Wait()
		require.Zero(t, numsub(t, node, "SHARDNUMSUB", chans...), "round %d", round)
		require.Zero(t, numsub(t, node, "NUMSUB", chans...), "round %d", round)
	}
}

func TestRESP2Reconnect(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("resp2re")
	node := redistest.Server()
	s := newRESP2Subscriber(t, name)
	pub := publisher(t, node.Addr)
	require.NoError(t, s.Subscribe(ctx, name+":ch"))
	require.NoError(t, s.SSubscribe(ctx, name+":s"))
	_, err := node.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub")
	require.NoError(t, err)
	publishUntil(t, s, pub, "PUBLISH", name+":ch", "back")
	publishUntil(t, s, pub, "SPUBLISH", name+":s", "shard back")
}

// A RESP2 connection in subscribe mode, as pubsub uses it: Send returns once
// the confirmation went to OnPush, and fails with conn.ErrClosed after Close.
func TestRESP2SendAfterClose(t *testing.T) {
	ctx := testContext(t)
	pushes := make(chan resp.Value, 1)
	c, err := conn.Dial(ctx, redistest.Server().Addr, &conn.Options{Protocol: 2, OnPush: func(v resp.Value) { pushes <- v }})
	require.NoError(t, err)
	require.Equal(t, 2, c.Protocol())
	require.NoError(t, c.Send(ctx, "SUBSCRIBE", "x"))
	require.Len(t, pushes, 1, "the confirmation went to OnPush before Send returned")
	assert.Equal(t, decodedPush{kind: pushSubscribed, sub: subKey{spaceChannel, "x"}}, decodePush(<-pushes))
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Send(ctx, "SUBSCRIBE", "y"), conn.ErrClosed)
	<-c.Done()

	_, err = New(ctx, redistest.Server().Addr, &conn.Options{Protocol: 2, Password: "secret-pw"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret-pw")
}

// A server that refuses HELLO (Redis 5 and older) gets RESP2 connections in
// subscribe mode. PING there answers ["pong", token] once a channel is
// subscribed, the bare token before.
func TestRESP2FallbackWhenHelloIsRefused(t *testing.T) {
	ctx := testContext(t)
	f := &fakeRedis{t: t, conns: make(map[int]*fakeserver.Conn), subs: make(map[int]map[subKey]bool), resp2: true}
	f.srv = fakeserver.Start(t).Handle(f.handle)
	s, err := New(ctx, f.srv.Addr(), nil)
	require.NoError(t, err)
	defer s.Close()

	require.NoError(t, s.Subscribe(ctx, "a", "b"))
	require.NoError(t, s.SSubscribe(ctx, "x"))
	ids := f.holders(subKey{spaceChannel, "a"})
	require.Len(t, ids, 1)
	f.reply(f.conn(ids[0]), resp.NewArray(resp.NewBulkString("message"), resp.NewBulkString("a"), resp.NewBulkString("hi")))
	assert.Equal(t, Message{Kind: KindMessage, Channel: "a", Payload: "hi"}, receive(t, s))
	shardIDs := f.holders(shard("x"))
	require.Len(t, shardIDs, 1)
	f.smessage(f.conn(shardIDs[0]), "x", "sharded")
	assert.Equal(t, Message{Kind: KindSMessage, Channel: "x", Payload: "sharded"}, receive(t, s))

	require.NoError(t, s.Unsubscribe(ctx, "a"))
	assert.Empty(t, f.holders(subKey{spaceChannel, "a"}))
	require.NoError(t, s.SUnsubscribe(ctx, "x"))
	assert.Empty(t, s.nodeLinks())
}
