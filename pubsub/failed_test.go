package pubsub

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failedKind is one of the three subscribe commands, with how to ask the
// server what it holds and how to publish to a name of it.
type failedKind struct {
	name      string
	subscribe func(s *Subscriber, ctx context.Context, names ...string) error
	publish   func(name string) []string
	// held reports how many of names the server holds for the clients
	// called client.
	held func(t testing.TB, node *redistest.Node, client string, names []string) int
}

var failedKinds = []failedKind{
	{
		name:      "Subscribe",
		subscribe: (*Subscriber).Subscribe,
		publish:   func(ch string) []string { return []string{"PUBLISH", ch, "late"} },
		held: func(t testing.TB, node *redistest.Node, _ string, names []string) int {
			return int(numsubEach(t, node, "NUMSUB", names))
		},
	},
	{
		name:      "SSubscribe",
		subscribe: (*Subscriber).SSubscribe,
		publish:   func(ch string) []string { return []string{"SPUBLISH", ch, "late"} },
		held: func(t testing.TB, node *redistest.Node, _ string, names []string) int {
			return int(numsubEach(t, node, "SHARDNUMSUB", names))
		},
	},
	{
		// A pattern without glob characters matches the one channel of the
		// same name. The server counts patterns per client only.
		name:      "PSubscribe",
		subscribe: (*Subscriber).PSubscribe,
		publish:   func(p string) []string { return []string{"PUBLISH", p, "late"} },
		held: func(t testing.TB, node *redistest.Node, client string, _ []string) int {
			clients, err := node.Clients(testContext(t))
			require.NoError(t, err)
			n := 0
			for _, c := range clients {
				if c.Name == client {
					k, _ := strconv.Atoi(c.Fields["psub"])
					n += k
				}
			}
			return n
		},
	},
}

// numsubEach sums PUBSUB NUMSUB (or SHARDNUMSUB) over names, asking in
// batches.
func numsubEach(t testing.TB, node *redistest.Node, sub string, names []string) int64 {
	var total int64
	for start := 0; start < len(names); start += 500 {
		total += numsub(t, node, sub, names[start:min(start+500, len(names))]...)
	}
	return total
}

// Issue 19 item 6: subscribes whose contexts end within 0-2 ms, many at once,
// each on a fresh name. Some context ends after the server confirmed the
// name and before the call saw its barrier. Afterwards every name whose call
// failed is unsubscribed (by the Subscriber, on its own), every name whose
// call succeeded is subscribed, and no message of a failed name reaches
// Messages().
func TestFailedSubscribeLeavesNothingSubscribed(t *testing.T) {
	for _, k := range failedKinds {
		t.Run(k.name, func(t *testing.T) {
			const goroutines, perGoroutine = 20, 100
			name := uniqueName("failed")
			node := redistest.Server()
			s := newServerSubscriber(t, name)
			pub := publisher(t, node.Addr)

			var mu sync.Mutex
			var failed, succeeded []string
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perGoroutine {
						ch := fmt.Sprintf("%s:%d:%d", name, g, i)
						ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(2001))*time.Microsecond)
						err := k.subscribe(s, ctx, ch)
						cancel()
						mu.Lock()
						if err != nil {
							failed = append(failed, ch)
						} else {
							succeeded = append(succeeded, ch)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			t.Logf("%d failed, %d succeeded", len(failed), len(succeeded))
			require.NotEmpty(t, failed)

			ctx := testContext(t)
			marker := name + ":marker"
			require.NoError(t, k.subscribe(s, ctx, marker))
			var left int
			deadline := time.Now().Add(10 * time.Second)
			for {
				left = k.held(t, node, name, failed)
				if k.name == "PSubscribe" {
					left -= len(succeeded) + 1 // the client's count includes the kept ones
				}
				if left == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond) // polling the server's count
			}
			require.Zero(t, left, "names of failed calls still subscribed on the server 10 s later")
			if k.name != "PSubscribe" {
				assert.Equal(t, len(succeeded), k.held(t, node, name, succeeded), "names of successful calls are subscribed")
			}

			// One connection carries every name: what is published to the
			// failed names before the marker comes before the marker.
			cmds := make([][]string, 0, len(failed)+1)
			for _, ch := range failed {
				cmds = append(cmds, k.publish(ch))
			}
			cmds = append(cmds, k.publish(marker))
			_, err := pub.DoMulti(ctx, cmds...)
			require.NoError(t, err)
			isFailed := make(map[string]bool, len(failed))
			for _, ch := range failed {
				isFailed[ch] = true
			}
			delivered := 0
			for {
				m := receive(t, s)
				if m.Channel == marker {
					break
				}
				if m.Payload == "late" && isFailed[m.Channel] {
					delivered++
				}
			}
			assert.Zero(t, delivered, "messages of failed names delivered")
		})
	}
}

// The crossing of issue 19 item 6, deterministically: the server confirms x
// at once but holds the barrier PING, and the caller's context ends
// meanwhile. The call fails; the Subscriber unsubscribes x by itself, and a
// message of x that the server still sends is not delivered.
func TestSyncSubscribeGivesUpAfterConfirmation(t *testing.T) {
	for _, sp := range []space{spaceChannel, spacePattern, spaceShard} {
		t.Run(spaceCommands[sp].subscribe, func(t *testing.T) {
			fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
				subscribe := map[space]func(context.Context, ...string) error{
					spaceChannel: s.Subscribe, spacePattern: s.PSubscribe, spaceShard: s.SSubscribe,
				}[sp]
				require.NoError(t, subscribe(ctx, "kept"))
				id := f.holders(subKey{sp, "kept"})[0]

				release := make(chan struct{})
				var confirmed atomic.Bool
				f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
					if cmd[0] == spaceCommands[sp].subscribe && cmd[1] == "x" {
						f.serve(c, cmd) // confirmed at once
						confirmed.Store(true)
						return true
					}
					if c.ID() == id && confirmed.CompareAndSwap(true, false) {
						<-release // the barrier, whatever it is, waits
					}
					return false
				})
				callCtx, cancel := context.WithCancel(ctx)
				failed := make(chan error, 1)
				go func() { failed <- subscribe(callCtx, "x") }()
				synctest.Wait()
				require.Equal(t, []int{id}, f.holders(subKey{sp, "x"}), "the server confirmed x")
				cancel()
				require.ErrorIs(t, <-failed, context.Canceled)

				// What the server sends for x now is not delivered.
				message := func(channel, payload string) {
					switch sp {
					case spaceChannel:
						f.reply(f.conn(id), f.pushFrame(resp.NewBulkString("message"), resp.NewBulkString(channel), resp.NewBulkString(payload)))
					case spacePattern:
						f.reply(f.conn(id), f.pushFrame(resp.NewBulkString("pmessage"), resp.NewBulkString(channel), resp.NewBulkString(channel), resp.NewBulkString(payload)))
					case spaceShard:
						f.smessage(f.conn(id), channel, payload)
					}
				}
				message("x", "late")
				message("kept", "after")
				assert.Equal(t, "after", (<-s.Messages()).Payload, "x's message was not delivered")

				close(release)
				synctest.Wait()
				assert.Empty(t, f.holders(subKey{sp, "x"}), "the Subscriber unsubscribed x by itself")
				assert.Equal(t, []int{id}, f.holders(subKey{sp, "kept"}))
				s.mu.Lock()
				_, wanted := s.want[subKey{sp, "x"}]
				s.mu.Unlock()
				assert.False(t, wanted)
			})
		})
	}
}

// An unsubscribe whose context ends before the server did anything: the
// call fails, nothing of x is delivered after it, and the Subscriber sends
// the unsubscribe again by itself until the server holds x no more.
func TestSyncFailedUnsubscribeIsFinished(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.Subscribe(ctx, "x", "kept"))
		release := make(chan struct{})
		var lost atomic.Bool
		f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
			if cmd[0] == "UNSUBSCRIBE" && len(cmd) == 2 && cmd[1] == "x" && lost.CompareAndSwap(false, true) {
				<-release
				return true // this one never took effect
			}
			return false
		})
		callCtx, cancel := context.WithCancel(ctx)
		failed := make(chan error, 1)
		go func() { failed <- s.Unsubscribe(callCtx, "x") }()
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-failed, context.Canceled)
		close(release)
		synctest.Wait()
		assert.Len(t, f.commands("UNSUBSCRIBE x"), 2, "sent again by the Subscriber")
		assert.Empty(t, f.holders(subKey{spaceChannel, "x"}))

		f.reply(f.conn(1), f.pushFrame(resp.NewBulkString("message"), resp.NewBulkString("x"), resp.NewBulkString("late")))
		f.reply(f.conn(1), f.pushFrame(resp.NewBulkString("message"), resp.NewBulkString("kept"), resp.NewBulkString("after")))
		assert.Equal(t, "after", (<-s.Messages()).Payload)
	})
}

// Two calls subscribe the same new name at once; the first one's context
// ends after the server confirmed it, the second succeeds. The name stays
// subscribed, as the second call promised: a failed call takes back only
// what no call that succeeded wants.
func TestSyncFailedSubscribeSparesAConcurrentSuccess(t *testing.T) {
	fakeTest(t, func(t *testing.T, ctx context.Context, f *fakeRedis, s *Subscriber) {
		require.NoError(t, s.Subscribe(ctx, "kept"))
		release := make(chan struct{})
		var confirmed atomic.Bool
		var first atomic.Bool
		f.setHook(func(c *fakeserver.Conn, cmd []string) bool {
			if cmd[0] == "SUBSCRIBE" && cmd[1] == "k" && first.CompareAndSwap(false, true) {
				f.serve(c, cmd)
				confirmed.Store(true)
				return true
			}
			if c.ID() == 1 && confirmed.CompareAndSwap(true, false) {
				<-release // the first call's barrier waits
			}
			return false
		})
		callCtx, cancel := context.WithCancel(ctx)
		failed := make(chan error, 1)
		go func() { failed <- s.Subscribe(callCtx, "k") }()
		synctest.Wait()
		succeeded := make(chan error, 1)
		go func() { succeeded <- s.Subscribe(ctx, "k") }()
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-failed, context.Canceled)
		close(release)
		require.NoError(t, <-succeeded)
		synctest.Wait()

		assert.Equal(t, []int{1}, f.holders(subKey{spaceChannel, "k"}), "k stays subscribed")
		s.mu.Lock()
		owner := s.want[subKey{spaceChannel, "k"}]
		s.mu.Unlock()
		assert.NotNil(t, owner, "and is known to live on its connection")
		f.reply(f.conn(1), f.pushFrame(resp.NewBulkString("message"), resp.NewBulkString("k"), resp.NewBulkString("delivered")))
		assert.Equal(t, "delivered", (<-s.Messages()).Payload)
	})
}

// Many calls subscribe the same names at once, most with 0-300 µs
// deadlines, some with plenty of time. Afterwards a name any call subscribed is
// subscribed and delivered; a name every call failed on is neither.
func TestConcurrentSubscribesOfOneNameOnRealServer(t *testing.T) {
	const names, callers = 300, 4
	name := uniqueName("same")
	node := redistest.Server()
	s := newServerSubscriber(t, name)
	pub := publisher(t, node.Addr)
	channels := make([]string, names)
	for i := range channels {
		channels[i] = fmt.Sprintf("%s:%d", name, i)
	}
	succeeded := make([]atomic.Int32, names)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i, ch := range channels {
				timeout := time.Duration(rand.IntN(301)) * time.Microsecond
				if c == 0 && i%3 == 0 {
					timeout = 10 * time.Second // this one succeeds
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				if s.Subscribe(ctx, ch) == nil {
					succeeded[i].Add(1)
				}
				cancel()
			}
		})
	}
	wg.Wait()
	var kept, dropped []string
	for i, ch := range channels {
		if succeeded[i].Load() > 0 {
			kept = append(kept, ch)
		} else {
			dropped = append(dropped, ch)
		}
	}
	t.Logf("%d names subscribed by some call, %d by none", len(kept), len(dropped))
	var held, leaked int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		held, leaked = numsubEach(t, node, "NUMSUB", kept), numsubEach(t, node, "NUMSUB", dropped)
		if (held == int64(len(kept)) && leaked == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the server's counts
	}
	require.Equal(t, int64(len(kept)), held, "names some call subscribed, held by the server 10 s later")
	require.Zero(t, leaked, "names every call failed on, held by the server 10 s later")

	ctx := testContext(t)
	cmds := make([][]string, 0, names+1)
	for _, ch := range channels {
		cmds = append(cmds, []string{"PUBLISH", ch, "late"})
	}
	cmds = append(cmds, []string{"PUBLISH", kept[0], "marker"})
	_, err := pub.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	got := make(map[string]int)
	for {
		m := receive(t, s)
		if m.Payload == "marker" {
			break
		}
		if m.Payload == "late" {
			got[m.Channel]++
		}
	}
	for _, ch := range kept {
		assert.Equal(t, 1, got[ch], "a name some call subscribed is delivered: %s", ch)
	}
	for _, ch := range dropped {
		assert.Zero(t, got[ch], "a name every call failed on is not delivered: %s", ch)
	}
}
