package pubsub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(redistest.Setup(m, redistest.NeedServer|redistest.NeedCluster))
}

// testTimeout bounds every wait of a test on a real server.
const testTimeout = 30 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

var nameSeq atomic.Int64

// uniqueName returns a name no other test uses: channels and client names
// of one test never see another's.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, nameSeq.Add(1))
}

// newServerSubscriber returns a Subscriber on the standalone server whose
// connections are named name, closed when the test ends.
func newServerSubscriber(t testing.TB, name string) *Subscriber {
	t.Helper()
	return newSubscriberSpeaking(t, name, 3)
}

// newSubscriberSpeaking is newServerSubscriber with connections that speak
// RESP proto (2 or 3).
func newSubscriberSpeaking(t testing.TB, name string, proto int) *Subscriber {
	t.Helper()
	s, err := New(testContext(t), redistest.Server().Addr, &conn.Options{ClientName: name, Protocol: proto})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachProtocol runs fn as a subtest for RESP3 and for RESP2, where
// conn.Conn turns subscribe mode's plain arrays into pushes.
func forEachProtocol(t *testing.T, fn func(t *testing.T, proto int)) {
	for _, proto := range []int{3, 2} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) { fn(t, proto) })
	}
}

// publisher is a connection to publish from.
func publisher(t testing.TB, addr string) *conn.Conn {
	t.Helper()
	c, err := conn.Dial(testContext(t), addr, nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// publishUntil publishes payload with cmd (PUBLISH or SPUBLISH) every so often
// until a message carrying it arrives on s, and returns it.
func publishUntil(t testing.TB, s *Subscriber, pub *conn.Conn, cmd, channel, payload string) Message {
	t.Helper()
	return publishUntilFunc(t, s, payload, func() error {
		_, err := pub.Do(testContext(t), cmd, channel, payload)
		return err
	})
}

// publishUntilFunc calls publish every so often until a message carrying
// payload arrives on s, and returns it. Messages with other payloads are
// skipped; publish errors are retried (a cluster may be failing over).
func publishUntilFunc(t testing.TB, s *Subscriber, payload string, publish func() error) Message {
	t.Helper()
	ctx := testContext(t)
	retry := time.NewTicker(50 * time.Millisecond)
	defer retry.Stop()
	var lastErr error
	noteRepeated(s, payload)
	for {
		lastErr = publish()
		for waiting := true; waiting; {
			select {
			case m, ok := <-s.Messages():
				require.True(t, ok, "Messages() closed")
				noteGap(s, m)
				if m.Payload == payload && m.Kind != KindGap {
					return m
				}
			case <-retry.C:
				waiting = false
			case <-ctx.Done():
				t.Fatalf("no message %q: %v (last publish error: %v)", payload, ctx.Err(), lastErr)
			}
		}
	}
}

// repeated keeps, per Subscriber, the payloads publishUntilFunc may have
// published more than once: a copy can arrive after the one it returned.
var repeated sync.Map // *Subscriber → *sync.Map of payloads

func noteRepeated(s *Subscriber, payload string) {
	v, _ := repeated.LoadOrStore(s, &sync.Map{})
	v.(*sync.Map).Store(payload, true)
}

// lateCopy reports whether m carries a payload publishUntilFunc published,
// maybe more than once, on s.
func lateCopy(s *Subscriber, m Message) bool {
	v, ok := repeated.Load(s)
	if !ok {
		return false
	}
	_, ok = v.(*sync.Map).Load(m.Payload)
	return ok
}

// gapsSeen keeps, per Subscriber, the gaps the helpers below skipped.
var gapsSeen sync.Map // *Subscriber → *gapLog

type gapLog struct {
	mu   sync.Mutex
	gaps []*Gap
}

// noteGap records m if it is a gap.
func noteGap(s *Subscriber, m Message) {
	if m.Kind != KindGap {
		return
	}
	v, _ := gapsSeen.LoadOrStore(s, &gapLog{})
	log := v.(*gapLog)
	log.mu.Lock()
	log.gaps = append(log.gaps, m.Gap)
	log.mu.Unlock()
}

// gapsOf returns the gaps the helpers skipped on s, and forgets them.
func gapsOf(s *Subscriber) []*Gap {
	v, ok := gapsSeen.LoadAndDelete(s)
	if !ok {
		return nil
	}
	log := v.(*gapLog)
	log.mu.Lock()
	defer log.mu.Unlock()
	return log.gaps
}

// awaitGaps waits until gaps name every one of names, looking at those the
// helpers skipped on s and then at the next messages, and returns the gaps
// seen, which it forgets. A gap may come after messages of the
// subscriptions it names: the Subscriber's repair goroutine delivers it.
func awaitGaps(t testing.TB, s *Subscriber, names ...string) []*Gap {
	t.Helper()
	gaps := gapsOf(s)
	for {
		missing := 0
		for _, name := range names {
			if !gapped(gaps, name) {
				missing++
			}
		}
		if missing == 0 {
			return gaps
		}
		if m := receive(t, s); m.Kind == KindGap {
			gaps = append(gaps, m.Gap)
		}
	}
}

// gapped reports whether a gap of gaps names name (of any kind).
func gapped(gaps []*Gap, name string) bool {
	for _, g := range gaps {
		if slices.Contains(g.Channels, name) || slices.Contains(g.Patterns, name) || slices.Contains(g.ShardChannels, name) {
			return true
		}
	}
	return false
}

// receiveMessage returns the next message on s that is not a gap, and
// records the gaps before it.
func receiveMessage(t testing.TB, s *Subscriber) Message {
	t.Helper()
	for {
		m := receive(t, s)
		noteGap(s, m)
		if m.Kind != KindGap {
			return m
		}
	}
}

// receive returns the next message on s.
func receive(t testing.TB, s *Subscriber) Message {
	t.Helper()
	ctx := testContext(t)
	select {
	case m, ok := <-s.Messages():
		require.True(t, ok, "Messages() closed")
		return m
	case <-ctx.Done():
		t.Fatalf("no message: %v", ctx.Err())
		return Message{}
	}
}

// clientsNamed counts the connections named name on the node at addr.
func clientsNamed(t testing.TB, node *redistest.Node, name string) int {
	t.Helper()
	clients, err := node.Clients(testContext(t))
	require.NoError(t, err)
	n := 0
	for _, c := range clients {
		if c.Name == name {
			n++
		}
	}
	return n
}

// numsub returns what PUBSUB <sub> (NUMSUB or SHARDNUMSUB) says of channels
// on node, summed.
func numsub(t testing.TB, node *redistest.Node, sub string, channels ...string) int64 {
	t.Helper()
	v, err := node.Do(testContext(t), append([]string{"PUBSUB", sub}, channels...)...)
	require.NoError(t, err)
	elems := v.Elems()
	var total int64
	for i := 1; i < len(elems); i += 2 {
		n, err := elems[i].Int()
		require.NoError(t, err)
		total += n
	}
	return total
}

func numpat(t testing.TB, node *redistest.Node) int64 {
	t.Helper()
	v, err := node.Do(testContext(t), "PUBSUB", "NUMPAT")
	require.NoError(t, err)
	n, err := v.Int()
	require.NoError(t, err)
	return n
}

// names returns n channel names starting with prefix.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s:%d", prefix, i)
	}
	return out
}

// eventually polls cond until it holds or the test's deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, testTimeout, 10*time.Millisecond, what)
}

// unsubscribeAtOnce calls unsubscribe for every channel, each on a goroutine
// of its own, all at once, and requires every call to return nil.
func unsubscribeAtOnce(t testing.TB, channels []string, unsubscribe func(channel string) error, msgAndArgs ...any) {
	t.Helper()
	errs := make([]error, len(channels))
	var wg sync.WaitGroup
	for i, ch := range channels {
		wg.Go(func() { errs[i] = unsubscribe(ch) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...), msgAndArgs...)
}
