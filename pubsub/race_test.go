package pubsub

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deterministic versions of the lifecycle races, over fakeRedis inside a
// synctest bubble: the server stalls or injects at exactly the point the
// race needs. Connection 1 is always the channel connection made by New.

// fakeTest runs fn in a synctest bubble, with a fakeRedis and a Subscriber
// on it whose channel connection (1) is open, once for each protocol: in
// RESP2 the fake refuses HELLO and the Subscriber's conn.Conns fall back.
func fakeTest(t *testing.T, fn func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber)) {
	forEachProtocol(t, func(t *testing.T, proto int) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			f := newFakeRedis(t, proto)
			s := f.subscriber(ctx)
			s.mu.Lock()
			require.Equal(t, proto, s.global.conn.Protocol(), "the channel connection's protocol")
			s.mu.Unlock()
			fn(t, ctx, f, s)
		})
	})
}

// stallFirst returns a hook that blocks the first command starting with
// prefix until release is closed (and then serves it normally).
func stallFirst(prefix string, release <-chan struct{}) func(*fakeserver.Conn, []string) bool {
	var stalled atomic.Bool
	return func(c *fakeserver.Conn, cmd []string) bool {
		if strings.HasPrefix(strings.Join(cmd, " "), prefix) && stalled.CompareAndSwap(false, true) {
			<-release
		}
		return false
	}
}

// A subscribe that meets a node connection being torn down (here: emptied by
// an unsubscribe while its dial is still in flight) gets a fresh connection,
// and its channel is live when it returns; the dying one is closed once.
func TestSyncSubscribeMeetsDyingConnection(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		release := make(chan struct{})
		f.setHook(stallFirst("HELLO", release)) // the first shard connection's handshake

		first := make(chan error, 1)
		go func() { first <- s.SSubscribe(ctx, "x") }()
		synctest.Wait() // x's connection (2) is dialling, its HELLO unanswered
		dying := s.nodeLinks()
		require.Len(t, dying, 1)

		require.NoError(t, s.SUnsubscribe(ctx, "x"), "the last channel of a dialling connection")
		assert.Empty(t, s.nodeLinks(), "the emptied link is detached at once")

		require.NoError(t, s.SSubscribe(ctx, "z"), "a subscribe after the detach")
		assert.Equal(t, []int{3}, f.holders(shard("z")), "z lives on a fresh connection")

		close(release)
		synctest.Wait()
		require.NoError(t, <-first, "the first subscribe lost to the unsubscribe, without error")
		assert.True(t, isDone(f.conn(2).Done()), "the dying connection was closed by its dialler")
		assert.True(t, isDone(dying[0].conn.Done()))
		assert.Empty(t, f.holders(shard("x")))

		f.smessage(f.conn(3), "z", "hello")
		assert.Equal(t, Message{Kind: KindSMessage, Channel: "z", Payload: "hello"}, <-s.Messages())
	})
}

// Concurrent unsubscribes of all of a node's channels, with the server
// holding their SUNSUBSCRIBEs: the one that empties the node detaches it at
// once, so no subscribe can reach it, and closes it once everything written
// on it was answered. Every call returns nil.
func TestSyncConcurrentUnsubscribes(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		channels := distinctSlots("u", 8)
		require.NoError(t, s.SSubscribe(ctx, channels...))
		require.Len(t, f.commands("SSUBSCRIBE"), len(channels), "one SSUBSCRIBE per slot")

		release := make(chan struct{})
		f.setHook(stallFirst("SUNSUBSCRIBE", release))
		errs := make(chan error, len(channels))
		for _, ch := range channels {
			go func() { errs <- s.SUnsubscribe(ctx, ch) }()
		}
		synctest.Wait()
		assert.Empty(t, s.nodeLinks(), "detached while its unsubscribes are in flight")
		assert.Empty(t, errs, "no call returned before the server answered")
		assert.False(t, isDone(f.conn(2).Done()))

		close(release)
		for range channels {
			require.NoError(t, <-errs)
		}
		synctest.Wait()
		assert.True(t, isDone(f.conn(2).Done()), "the node's connection is closed")
		for _, ch := range channels {
			assert.Empty(t, f.holders(shard(ch)), ch)
		}
		assert.Len(t, f.commands("SUNSUBSCRIBE"), len(channels), "seven channels and one bare SUNSUBSCRIBE")
	})
}

// A pushed sunsubscribe (the slot moved) that crosses the user's in-flight
// SUNSUBSCRIBE of x is harmless when it drops x itself: the call returns nil
// and x, no longer wanted, is not subscribed again. When it drops y, which
// the user still wants, it is followed: y is subscribed again (on a single
// server: at the same address, on a fresh connection since its old one
// emptied) and receives messages.
func TestSyncPushedSunsubscribeCrossesUnsubscribe(t *testing.T) {
	for _, dropWanted := range []bool{false, true} {
		t.Run("dropWanted="+strconv.FormatBool(dropWanted), func(t *testing.T) {
			fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
				chans := distinctSlots("c", 2)
				x, y := chans[0], chans[1]
				require.NoError(t, s.SSubscribe(ctx, x, y))
				drop := x
				if dropWanted {
					drop = y
				}

				f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
					if cmd[0] == "SUNSUBSCRIBE" && len(cmd) > 1 && cmd[1] == x {
						f.drop(c, shard(drop)) // the server's own sunsubscribe, first
					}
					return false // then the confirmation, as Redis sends one anyway
				})
				require.NoError(t, s.SUnsubscribe(ctx, x))
				synctest.Wait()
				assert.Len(t, f.commands("SSUBSCRIBE "+x), 1, "x is not subscribed again")
				assert.Empty(t, f.holders(shard(x)))
				s.mu.Lock()
				assert.Empty(t, s.orphans)
				s.mu.Unlock()
				if !dropWanted {
					assert.Equal(t, []int{2}, f.holders(shard(y)), "y never moved")
					return
				}
				assert.Equal(t, []int{3}, f.holders(shard(y)), "y subscribed again, on a fresh connection")
				assert.True(t, isDone(f.conn(2).Done()), "the emptied connection was retired")
				gap := receiveGaps(t, s, 1)[0]
				assert.Equal(t, []string{y}, gap.ShardChannels, "a gap for y, which the server dropped")
				assert.ErrorContains(t, gap.Cause, "unsubscribed "+y+" by itself")
				f.smessage(f.conn(3), y, "again")
				assert.Equal(t, "again", (<-s.Messages()).Payload)
			})
		})
	}
}

// A subscribe confirmation the user does not want (a subscribe and an
// unsubscribe of one name crossed) is undone.
func TestSyncStrayConfirmationIsUnsubscribed(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.SSubscribe(ctx, "kept"))
		f.set(2, shard("stray"), true)
		f.push(f.conn(2), "ssubscribe", "stray", 2)
		require.NoError(t, s.Subscribe(ctx, "ch"))
		f.set(1, subKey{spaceChannel, "ch2"}, true)
		f.push(f.conn(1), "subscribe", "ch2", 2)
		synctest.Wait()
		assert.Equal(t, []string{"2 SUNSUBSCRIBE stray"}, f.commands("SUNSUBSCRIBE"))
		assert.Equal(t, []string{"1 UNSUBSCRIBE ch2"}, f.commands("UNSUBSCRIBE"))
		assert.Empty(t, f.holders(shard("stray")))
		assert.Equal(t, []int{2}, f.holders(shard("kept")))
	})
}

// Redirects: an unsubscribe answered with MOVED means the node dropped the
// channel already; a subscribe answered with MOVED is routed again.
func TestSyncRedirects(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		chans := distinctSlots("m", 2)
		moved := 0
		f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
			if cmd[0] == "SSUBSCRIBE" && moved < 3 {
				moved++
				f.reply(c, resp.NewSimpleError("MOVED 1 127.0.0.1:1"))
				return true
			}
			if cmd[0] == "SUNSUBSCRIBE" && len(cmd) == 2 {
				f.set(c.ID(), shard(cmd[1]), false)
				f.reply(c, resp.NewSimpleError("MOVED 1 127.0.0.1:1"))
				return true
			}
			return false
		})
		require.NoError(t, s.SSubscribe(ctx, chans...))
		assert.Equal(t, 3, moved)
		require.NoError(t, s.SUnsubscribe(ctx, chans[0]))
		assert.Empty(t, f.holders(shard(chans[0])))
		assert.Len(t, f.holders(shard(chans[1])), 1)

		// A server that always redirects makes the call give up.
		f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
			if cmd[0] == "SSUBSCRIBE" {
				f.reply(c, resp.NewSimpleError("MOVED 1 127.0.0.1:1"))
				return true
			}
			return false
		})
		err := s.SSubscribe(ctx, "never")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "pubsub: SSUBSCRIBE: still routed again after 16 attempts: MOVED", "says why")
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err = s.SSubscribe(short, "never")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "pubsub: SSUBSCRIBE: context deadline exceeded (while routing again after: MOVED", "says why")
		s.mu.Lock()
		_, wanted := s.want[shard("never")]
		s.mu.Unlock()
		assert.False(t, wanted, "a failed subscribe leaves nothing wanted")
	})
}

// A lost connection is dialled again and every subscription restored, one
// SSUBSCRIBE per slot.
func TestSyncReconnectRestoresSubscriptions(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		chans := distinctSlots("r", 3)
		require.NoError(t, s.SSubscribe(ctx, chans...))
		require.NoError(t, s.Subscribe(ctx, "a", "b"))
		require.NoError(t, s.PSubscribe(ctx, "p*"))

		f.conn(1).Close()
		f.conn(2).Close()
		synctest.Wait()
		// Connections 3 and 4 are the new ones, in whichever order the
		// repair dialled them.
		shardConn := f.holders(shard(chans[0]))
		require.Len(t, shardConn, 1)
		assert.Greater(t, shardConn[0], 2)
		for _, ch := range chans {
			assert.Equal(t, shardConn, f.holders(shard(ch)), ch)
		}
		assert.Len(t, f.commands("SSUBSCRIBE"), 2*len(chans), "one SSUBSCRIBE per slot, twice")
		channelConn := f.holders(subKey{spaceChannel, "a"})
		require.Len(t, channelConn, 1)
		assert.Greater(t, channelConn[0], 2)
		assert.NotEqual(t, shardConn, channelConn)
		for _, key := range []subKey{{spaceChannel, "b"}, {spacePattern, "p*"}} {
			assert.Equal(t, channelConn, f.holders(key), key.name)
		}

		// One gap, or one per connection, for everything on them.
		var names []string
		for len(names) < 6 {
			g := receiveGaps(t, s, 1)[0]
			names = append(names, g.Channels...)
			names = append(names, g.Patterns...)
			names = append(names, g.ShardChannels...)
			assert.ErrorContains(t, g.Cause, "lost")
			assert.False(t, g.To.Before(g.From), "From %v, To %v", g.From, g.To)
		}
		assert.ElementsMatch(t, append([]string{"a", "b", "p*"}, chans...), names)
		f.reply(f.conn(channelConn[0]), f.pushFrame(resp.NewBulkString("pmessage"), resp.NewBulkString("p*"), resp.NewBulkString("pq"), resp.NewBulkString("1")))
		assert.Equal(t, Message{Kind: KindPMessage, Pattern: "p*", Channel: "pq", Payload: "1"}, <-s.Messages())
	})
}

// A failed dial leaves the subscription to the repair worker, which keeps
// trying with backoff until the server answers.
func TestSyncRepairRetriesWithBackoff(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.SSubscribe(ctx, "x"))
		refusals := 0
		resubscribed := make(chan struct{}, 1)
		f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
			switch {
			case cmd[0] == "HELLO" && refusals < 5:
				refusals++
				f.reply(c, resp.NewSimpleError("LOADING Redis is loading the dataset in memory"))
				return true
			case cmd[0] == "SSUBSCRIBE":
				resubscribed <- struct{}{}
			}
			return false
		})
		f.conn(2).Close()
		<-resubscribed // the bubble's clock runs through the backoff meanwhile
		synctest.Wait()
		assert.Equal(t, 5, refusals)
		conns := f.holders(shard("x"))
		require.Len(t, conns, 1)
		assert.Equal(t, []string{"x"}, receiveGaps(t, s, 1)[0].ShardChannels)
		f.smessage(f.conn(conns[0]), "x", "back")
		assert.Equal(t, "back", (<-s.Messages()).Payload)
	})
}

// Close while a reader is blocked on a full Messages() and a Send waits
// behind it: Close returns, the Send returns, Messages() is closed.
func TestSyncCloseUnblocksEverything(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.SSubscribe(ctx, "x", "w"))
		// The server holds the SUNSUBSCRIBE on a channel: answered, it would
		// wait for the flood's write on fakeserver's sync.Mutex, which
		// synctest.Wait does not count as blocked.
		release := make(chan struct{})
		defer close(release)
		f.setHook(stallFirst("SUNSUBSCRIBE", release))
		go func() {
			for i := range DefaultMessageBuffer + 10 {
				f.smessage(f.conn(2), "x", "m"+string(rune('a'+i%26)))
			}
		}()
		unsubscribed := make(chan error, 1)
		go func() { unsubscribed <- s.SUnsubscribe(ctx, "w") }()
		synctest.Wait()
		assert.Len(t, s.Messages(), DefaultMessageBuffer)
		require.NoError(t, s.Close())
		require.NoError(t, <-unsubscribed)
		n := 0
		for range s.Messages() {
			n++
		}
		assert.Equal(t, DefaultMessageBuffer, n)
	})
}

// Close racing subscribes and unsubscribes: nothing hangs, Close returns nil,
// subscribes return nil or ErrClosed.
func TestSyncCloseRacesEverything(t *testing.T) {
	for range 20 {
		fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
			require.NoError(t, s.SSubscribe(ctx, "a"))
			var wg sync.WaitGroup
			wg.Go(func() { assert.NoError(t, s.Close()) })
			wg.Go(func() {
				if err := s.SSubscribe(ctx, "b", "c"); err != nil {
					assert.ErrorIs(t, err, ErrClosed)
				}
			})
			wg.Go(func() { assert.NoError(t, s.SUnsubscribe(ctx, "a")) })
			wg.Go(func() { assert.NoError(t, s.Close()) })
			wg.Wait()
			_, open := <-s.Messages()
			assert.False(t, open)
		})
	}
}

// Close while the last unsubscribe of a node waits for a server that does
// not answer: Close returns at once, and so does the unsubscribe, with nil.
func TestSyncCloseCutsRetireShort(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.SSubscribe(ctx, "x"))
		release := make(chan struct{})
		defer close(release)
		f.setHook(stallFirst("SUNSUBSCRIBE", release))

		unsubscribed := make(chan error, 1)
		go func() { unsubscribed <- s.SUnsubscribe(ctx, "x") }()
		synctest.Wait()
		assert.Empty(t, unsubscribed, "waiting for the server")
		require.NoError(t, s.Close())
		require.NoError(t, <-unsubscribed)
		synctest.Wait() // the fake's side sees the close
		assert.True(t, isDone(f.conn(2).Done()))
	})
}

// receiveGaps reads n messages from s and requires each to be a gap.
func receiveGaps(t testing.TB, s *Subscriber, n int) []*Gap {
	t.Helper()
	var gaps []*Gap
	for range n {
		m := <-s.Messages()
		require.Equal(t, KindGap, m.Kind, "got %+v", m)
		require.NotNil(t, m.Gap)
		gaps = append(gaps, m.Gap)
	}
	return gaps
}
