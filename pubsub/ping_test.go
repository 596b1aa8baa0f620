package pubsub

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePingTest is fakeTest with the liveness check on, at its defaults.
func fakePingTest(t *testing.T, fn func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber)) {
	forEachProtocol(t, func(t *testing.T, proto int) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			f := newFakeRedis(t, proto)
			f.options = nil
			s := f.subscriber(ctx)
			fn(t, ctx, f, s)
		})
	})
}

// A connection that stops answering (the server sees its commands no more)
// is found within PingInterval + PingTimeout, replaced, its subscriptions
// restored, and a gap reported for them.
func TestSyncSilentLinkIsReplaced(t *testing.T) {
	fakePingTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.Subscribe(ctx, "a"))
		require.NoError(t, s.PSubscribe(ctx, "p*"))
		var silent atomic.Bool
		f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
			return c.ID() == 1 && silent.Load() // swallowed
		})
		silent.Store(true)
		start := time.Now()

		gap := receiveGaps(t, s, 1)[0]
		assert.LessOrEqual(t, time.Since(start), DefaultPingInterval+DefaultPingTimeout, "found and replaced")
		assert.Equal(t, []string{"a"}, gap.Channels)
		assert.Equal(t, []string{"p*"}, gap.Patterns)
		assert.ErrorContains(t, gap.Cause, "went silent")
		assert.False(t, gap.From.After(start), "the gap starts before the silence")
		synctest.Wait()
		assert.True(t, isDone(f.conn(1).Done()), "the silent connection was closed")
		assert.True(t, isDone(f.conn(2).Done()), "the probe was closed")
		assert.Equal(t, []int{3}, f.holders(subKey{spaceChannel, "a"}))
		f.reply(f.conn(3), f.pushFrame(resp.NewBulkString("message"), resp.NewBulkString("a"), resp.NewBulkString("back")))
		assert.Equal(t, "back", (<-s.Messages()).Payload)
	})
}

// A reader held up by a full Messages() leaves the PING's answer unread
// behind messages: that is no silence. Nothing is probed or replaced, and
// every message arrives, without a gap.
func TestSyncBusyReaderIsNotSilent(t *testing.T) {
	fakePingTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.Subscribe(ctx, "a"))
		// While the flood is written, the server's answers would wait behind
		// it, on fakeserver's mutex (which synctest does not count as
		// blocked): the PINGs go unanswered instead, as they would queue.
		var flooding atomic.Bool
		flooding.Store(true)
		f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
			return cmd[0] == "PING" && flooding.Load()
		})
		const n = DefaultMessageBuffer + 50
		go func() {
			for i := range n {
				f.reply(f.conn(1), f.pushFrame(resp.NewBulkString("message"), resp.NewBulkString("a"), resp.NewBulkString(strconv.Itoa(i))))
			}
		}()
		time.Sleep(10 * DefaultPingInterval) // the bubble's clock: ten rounds of checks
		synctest.Wait()
		assert.False(t, isDone(f.conn(1).Done()), "the busy connection is kept")
		assert.Nil(t, f.conn(2), "no probe was dialled")
		flooding.Store(false)
		for i := range n {
			m := <-s.Messages()
			require.Equal(t, KindMessage, m.Kind, "message %d", i)
			require.Equal(t, strconv.Itoa(i), m.Payload)
		}
		synctest.Wait()
		assert.Empty(t, s.Messages(), "no gap")
	})
}

// A server asleep for everyone (DEBUG SLEEP 3) answers neither the link's
// PING nor the probe's handshake: the link is kept, and when the server
// wakes, answering in the order it received the commands, nothing is lost.
func TestSyncSleepingServerKeepsItsLinks(t *testing.T) {
	fakePingTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.Subscribe(ctx, "a"))
		var asleep atomic.Bool
		held := make(chan chan struct{}, 64) // commands in the order they came
		f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
			if asleep.Load() {
				wake := make(chan struct{})
				held <- wake
				<-wake
			}
			return false
		})
		asleep.Store(true)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		assert.NotEmpty(t, held, "the link's PING and the probe's handshake wait")
		asleep.Store(false)
		for len(held) > 0 {
			close(<-held)
			synctest.Wait()
		}
		assert.False(t, isDone(f.conn(1).Done()), "the link is kept")
		assert.Equal(t, []int{1}, f.holders(subKey{spaceChannel, "a"}))
		f.reply(f.conn(1), f.pushFrame(resp.NewBulkString("message"), resp.NewBulkString("a"), resp.NewBulkString("awake")))
		assert.Equal(t, "awake", (<-s.Messages()).Payload, "no gap before it")
	})
}

// On a real server, in both protocols (RESP2 answers a PING in subscribe mode
// with ["pong", ""]), the PINGs are answered and keep proving the link live.
func TestPingsAreAnswered(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, proto int) {
		ctx := testContext(t)
		name := uniqueName("ping")
		node := redistest.Server()
		s, err := NewWithOptions(ctx, node.Addr, &conn.Options{ClientName: name, Protocol: proto}, &Options{PingInterval: 20 * time.Millisecond})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Subscribe(ctx, name))
		id := subscriberID(t, node, name)
		s.mu.Lock()
		l := s.global
		s.mu.Unlock()
		subscribed := time.Now()
		eventually(t, "PINGs answered after the subscribe", func() bool {
			return l.live.since().After(subscribed.Add(100 * time.Millisecond))
		})
		assert.Equal(t, id, subscriberID(t, node, name), "the same connection")
		pub := publisher(t, node.Addr)
		m := publishUntil(t, s, pub, "PUBLISH", name, "hello")
		assert.Equal(t, KindMessage, m.Kind)
		assert.Empty(t, gapsOf(s), "no gap")
	})
}
