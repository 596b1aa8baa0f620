package pubsub

import (
	"testing"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
// subscribe mode, over TCP, as New dials them. PING there answers ["pong",
// token] while anything is subscribed, the bare token otherwise.
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
