package pubsub

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every kind of message arrives, on a channel connection and a shard
// connection that speak the protocol asked for; unsubscribing everything
// leaves nothing on the server and closes the shard connection.
func TestSubscribeReceivesEveryKind(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, proto int) {
		ctx := testContext(t)
		name := uniqueName("kinds")
		node := redistest.Server()
		s := newSubscriberSpeaking(t, name, proto)
		pub := publisher(t, node.Addr)

		require.NoError(t, s.Subscribe(ctx, name+":ch"))
		require.NoError(t, s.PSubscribe(ctx, name+":p*"))
		require.NoError(t, s.SSubscribe(ctx, name+":sh"))
		clients, err := node.Clients(ctx)
		require.NoError(t, err)
		n := 0
		for _, c := range clients {
			if c.Name == name {
				assert.Equal(t, strconv.Itoa(proto), c.Fields["resp"], "the connection's protocol")
				n++
			}
		}
		assert.Equal(t, 2, n, "channel and shard connections")

		// Confirmed subscriptions are live: one publish each is enough.
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
	})
}

func TestMessagesKeepConnectionOrder(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("order")
	s := newServerSubscriber(t, name)
	pub := publisher(t, redistest.Server().Addr)
	require.NoError(t, s.Subscribe(ctx, name))

	const n = 2000 // more than the Messages() buffer: the reader is held up
	cmds := make([][]string, n)
	for i := range cmds {
		cmds[i] = []string{"PUBLISH", name, string(rune('a'+i%26)) + strconv.Itoa(i)}
	}
	_, err := pub.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	for i := range n {
		m := receive(t, s)
		require.Equal(t, cmds[i][2], m.Payload, "message %d", i)
	}
}

func TestUnsubscribeStopsDelivery(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("unsub")
	node := redistest.Server()
	s := newServerSubscriber(t, name)
	pub := publisher(t, node.Addr)

	require.NoError(t, s.Subscribe(ctx, name+":a", name+":b"))
	require.NoError(t, s.PSubscribe(ctx, name+":p*"))
	require.NoError(t, s.SSubscribe(ctx, name+":s1", name+":s2"))
	assert.EqualValues(t, 2, numsub(t, node, "NUMSUB", name+":a", name+":b"))
	assert.EqualValues(t, 2, numsub(t, node, "SHARDNUMSUB", name+":s1", name+":s2"))

	require.NoError(t, s.Unsubscribe(ctx, name+":a"))
	assert.EqualValues(t, 1, numsub(t, node, "NUMSUB", name+":a", name+":b"))
	require.NoError(t, s.Unsubscribe(ctx)) // all
	require.NoError(t, s.PUnsubscribe(ctx))
	require.NoError(t, s.SUnsubscribe(ctx))
	assert.EqualValues(t, 0, numsub(t, node, "NUMSUB", name+":a", name+":b"))
	assert.EqualValues(t, 0, numsub(t, node, "SHARDNUMSUB", name+":s1", name+":s2"))

	// Unsubscribing what is not subscribed is no error.
	require.NoError(t, s.Unsubscribe(ctx, name+":a"))
	require.NoError(t, s.SUnsubscribe(ctx, name+":never"))

	// Nothing published now arrives: a fresh subscription's message is the
	// next one seen.
	for _, ch := range []string{name + ":a", name + ":b", name + ":pq"} {
		_, err := pub.Do(ctx, "PUBLISH", ch, "late")
		require.NoError(t, err)
	}
	_, err := pub.Do(ctx, "SPUBLISH", name+":s1", "late")
	require.NoError(t, err)
	require.NoError(t, s.Subscribe(ctx, name+":c"))
	_, err = pub.Do(ctx, "PUBLISH", name+":c", "fresh")
	require.NoError(t, err)
	assert.Equal(t, "fresh", receive(t, s).Payload)
}

// TestShardConnectionFollowsItsChannels checks the per-node lifecycle on one
// server: the shard connection opens with the first shard channel and closes
// with the last.
func TestShardConnectionFollowsItsChannels(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("shardlife")
	node := redistest.Server()
	s := newServerSubscriber(t, name)
	require.Equal(t, 1, clientsNamed(t, node, name), "the channel connection")

	require.NoError(t, s.SSubscribe(ctx, name+":1", name+":2"))
	require.Equal(t, 2, clientsNamed(t, node, name))
	require.NoError(t, s.SUnsubscribe(ctx, name+":1"))
	require.Equal(t, 2, clientsNamed(t, node, name), "one shard channel is left")
	require.NoError(t, s.SUnsubscribe(ctx, name+":2"))
	eventually(t, "the shard connection closes", func() bool { return clientsNamed(t, node, name) == 1 })

	require.NoError(t, s.SSubscribe(ctx, name+":3"))
	require.Equal(t, 2, clientsNamed(t, node, name), "a fresh shard connection")
}

// TestConcurrentUnsubscribeOneServer is the seed race for every kind on one
// server, in both protocols: many channels, all unsubscribed at once from as
// many goroutines ("channel+shard" unsubscribes both kinds of each name, so
// the two connections' unsubscribes interleave).
func TestConcurrentUnsubscribeOneServer(t *testing.T) {
	node := redistest.Server()
	kinds := []struct {
		name        string
		subscribe   func(*Subscriber, context.Context, ...string) error
		unsubscribe func(*Subscriber, context.Context, ...string) error
		left        func(t *testing.T, channels []string) int64
	}{
		{"channel", (*Subscriber).Subscribe, (*Subscriber).Unsubscribe,
			func(t *testing.T, chs []string) int64 { return numsub(t, node, "NUMSUB", chs...) }},
		{"pattern", (*Subscriber).PSubscribe, (*Subscriber).PUnsubscribe,
			func(t *testing.T, _ []string) int64 { return numpat(t, node) }},
		{"shard", (*Subscriber).SSubscribe, (*Subscriber).SUnsubscribe,
			func(t *testing.T, chs []string) int64 { return numsub(t, node, "SHARDNUMSUB", chs...) }},
		{"channel+shard",
			func(s *Subscriber, ctx context.Context, chs ...string) error {
				return errors.Join(s.SSubscribe(ctx, chs...), s.Subscribe(ctx, chs...))
			},
			func(s *Subscriber, ctx context.Context, chs ...string) error {
				return errors.Join(s.SUnsubscribe(ctx, chs...), s.Unsubscribe(ctx, chs...))
			},
			func(t *testing.T, chs []string) int64 {
				return numsub(t, node, "SHARDNUMSUB", chs...) + numsub(t, node, "NUMSUB", chs...)
			}},
	}
	forEachProtocol(t, func(t *testing.T, proto int) {
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				ctx := testContext(t)
				name := uniqueName("seed1-" + k.name)
				s := newSubscriberSpeaking(t, name, proto)
				for round := range 20 {
					channels := names(name+":"+strconv.Itoa(round), 64)
					require.NoError(t, k.subscribe(s, ctx, channels...))
					unsubscribeAtOnce(t, channels, func(ch string) error { return k.unsubscribe(s, ctx, ch) }, "round %d", round)
					require.Zero(t, k.left(t, channels), "round %d: subscriptions left on the server", round)
				}
				eventually(t, "only the channel connection is left", func() bool { return clientsNamed(t, node, name) == 1 })
			})
		}
	})
}

func TestReconnectAfterClientKill(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, proto int) {
		ctx := testContext(t)
		name := uniqueName("reconnect")
		node := redistest.Server()
		s := newSubscriberSpeaking(t, name, proto)
		pub := publisher(t, node.Addr)
		require.NoError(t, s.Subscribe(ctx, name+":ch"))
		require.NoError(t, s.PSubscribe(ctx, name+":p*"))
		require.NoError(t, s.SSubscribe(ctx, name+":s1", name+":s2"))

		for round := range 3 {
			_, err := node.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub")
			require.NoError(t, err)
			tag := strconv.Itoa(round)
			assert.Equal(t, KindMessage, publishUntil(t, s, pub, "PUBLISH", name+":ch", "ch"+tag).Kind)
			assert.Equal(t, KindPMessage, publishUntil(t, s, pub, "PUBLISH", name+":pat", "pat"+tag).Kind)
			assert.Equal(t, KindSMessage, publishUntil(t, s, pub, "SPUBLISH", name+":s1", "s1"+tag).Kind)
			assert.Equal(t, KindSMessage, publishUntil(t, s, pub, "SPUBLISH", name+":s2", "s2"+tag).Kind)
			awaitGaps(t, s, name+":ch", name+":p*", name+":s1", name+":s2")
		}
		assert.EqualValues(t, 1, numsub(t, node, "NUMSUB", name+":ch"), "subscribed once, not once per reconnect")
	})
}

func TestCloseIsIdempotentAndClosesMessages(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("close")
	node := redistest.Server()
	s := newServerSubscriber(t, name)
	require.NoError(t, s.Subscribe(ctx, name))
	require.NoError(t, s.SSubscribe(ctx, name+":s"))

	select {
	case <-s.Done():
		t.Fatal("Done before Close")
	default:
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { assert.NoError(t, s.Close()) })
	}
	wg.Wait()
	<-s.Done()
	_, ok := <-s.Messages()
	assert.False(t, ok, "Messages() is closed after Close")
	assert.NoError(t, s.Close())

	err := s.Subscribe(ctx, name)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, conn.ErrClosed)
	assert.ErrorIs(t, s.SSubscribe(ctx, name), ErrClosed)
	assert.NoError(t, s.Unsubscribe(ctx, name), "nothing is subscribed after Close")
	eventually(t, "every connection is gone", func() bool { return clientsNamed(t, node, name) == 0 })
}

// TestCloseUnblocksASlowReader: nobody reads Messages(), the buffer fills,
// the connections stop reading; Close still returns.
func TestCloseUnblocksASlowReader(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("slow")
	s := newServerSubscriber(t, name)
	pub := publisher(t, redistest.Server().Addr)
	require.NoError(t, s.Subscribe(ctx, name))
	require.NoError(t, s.SSubscribe(ctx, name+":s"))
	cmds := make([][]string, 0, 2*DefaultMessageBuffer+10)
	for i := range cap(cmds) / 2 {
		cmds = append(cmds, []string{"PUBLISH", name, strconv.Itoa(i)}, []string{"SPUBLISH", name + ":s", strconv.Itoa(i)})
	}
	_, err := pub.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	eventually(t, "the buffer fills", func() bool { return len(s.Messages()) == DefaultMessageBuffer })

	// Unsubscribing a node's last shard channel closes its connection, whose
	// reader is blocked on the full buffer: it must not wait for a reader.
	require.NoError(t, s.SUnsubscribe(ctx, name+":s"))
	require.NoError(t, s.Close())
	n := 0
	for range s.Messages() {
		n++
	}
	assert.LessOrEqual(t, n, DefaultMessageBuffer)
}

func TestNewErrors(t *testing.T) {
	ctx := testContext(t)
	_, err := New(ctx, "127.0.0.1:1", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pubsub: ")

	_, err = New(ctx, redistest.Server().Addr, &conn.Options{Protocol: 4})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pubsub: Options.Protocol is 4")

	_, err = NewCluster(ctx, nil)
	require.Error(t, err)

	s := newServerSubscriber(t, uniqueName("noargs"))
	assert.Error(t, s.Subscribe(ctx))
	assert.Error(t, s.SSubscribe(ctx))
	assert.Error(t, s.PSubscribe(ctx))
}

func TestSubscribeHonoursContext(t *testing.T) {
	name := uniqueName("ctx")
	s := newServerSubscriber(t, name)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.SSubscribe(ctx, name+":s")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	// The failed call left nothing wanted: nothing is repaired behind our back.
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Empty(t, s.want)
	assert.Empty(t, s.nodes)
}
