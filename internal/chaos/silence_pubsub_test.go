package chaos

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/faultproxy"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// silenceWatch publishes a numbered message to each of its channels every
// few milliseconds and reads the Subscriber, so that a test can tell when
// delivery stopped, when it came back and which gaps were reported.
type silenceWatch struct {
	sub *pubsub.Subscriber

	mu       sync.Mutex
	sentAt   map[string][]time.Time // by channel, by message number
	arrivals map[string][]arrival
	gaps     []*pubsub.Gap
	gapAt    []time.Time

	stop chan struct{}
	wg   sync.WaitGroup
}

type arrival struct {
	n  int
	at time.Time
}

// publishFunc publishes payload to one channel.
type publishFunc func(ctx context.Context, payload string) error

func newSilenceWatch(sub *pubsub.Subscriber, channels map[string]publishFunc) *silenceWatch {
	w := &silenceWatch{sub: sub, sentAt: make(map[string][]time.Time), arrivals: make(map[string][]arrival), stop: make(chan struct{})}
	for channel, publish := range channels {
		w.wg.Go(func() {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-w.stop:
					return
				case <-tick.C:
				}
				w.mu.Lock()
				w.sentAt[channel] = append(w.sentAt[channel], time.Now())
				w.mu.Unlock()
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = publish(ctx, strconv.Itoa(n)) // a failed publish is a number that never arrives
				cancel()
			}
		})
	}
	w.wg.Go(func() {
		for m := range sub.Messages() {
			now := time.Now()
			w.mu.Lock()
			if m.Kind == pubsub.KindGap {
				w.gaps = append(w.gaps, m.Gap)
				w.gapAt = append(w.gapAt, now)
			} else {
				n, _ := strconv.Atoi(m.Payload)
				w.arrivals[m.Channel] = append(w.arrivals[m.Channel], arrival{n, now})
			}
			w.mu.Unlock()
		}
	})
	return w
}

// firstAfter returns when the first message published to channel after t
// arrived.
func (w *silenceWatch) firstAfter(channel string, t time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sent := w.sentAt[channel]
	for _, a := range w.arrivals[channel] {
		if a.n < len(sent) && sent[a.n].After(t) {
			return a.at, true
		}
	}
	return time.Time{}, false
}

// gapFor returns the first gap that names name.
func (w *silenceWatch) gapFor(name string) (*pubsub.Gap, time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, g := range w.gaps {
		if slices.Contains(g.Channels, name) || slices.Contains(g.ShardChannels, name) {
			return g, w.gapAt[i], true
		}
	}
	return nil, time.Time{}, false
}

// stopPublishing stops the publishers; the reader ends when the Subscriber
// closes.
func (w *silenceWatch) stopPublishing() { close(w.stop) }

// A standalone Subscriber behind the fault proxy; the links open at the
// silence stop forwarding while new ones pass. With default options the
// Subscriber finds the silent connection, dials a new one, restores the
// subscription and reports a gap for the channel.
func TestSilencedSubscriber(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := redistest.Server()
	p, err := faultproxy.Start(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	sub, err := pubsub.New(ctx, p.Addr(), nil)
	require.NoError(t, err)
	channel := "silence:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	require.NoError(t, sub.Subscribe(ctx, channel))
	pub, err := conn.NewClient(ctx, srv.Addr, nil)
	require.NoError(t, err)
	defer pub.Close()

	w := newSilenceWatch(sub, map[string]publishFunc{channel: func(ctx context.Context, payload string) error {
		_, err := pub.Do(ctx, "PUBLISH", channel, payload)
		return err
	}})
	defer func() {
		w.stopPublishing()
		sub.Close()
		w.wg.Wait()
	}()
	waitFor(t, ctx, "messages flow", func() bool { _, ok := w.firstAfter(channel, time.Time{}); return ok })

	silence := time.Now()
	p.Silence()
	waitFor(t, ctx, "a message published after the silence arrives", func() bool { _, ok := w.firstAfter(channel, silence); return ok })
	back, _ := w.firstAfter(channel, silence)
	waitFor(t, ctx, "a gap is reported", func() bool { _, _, ok := w.gapFor(channel); return ok })
	gap, gapAt, _ := w.gapFor(channel)
	t.Logf("fault=silence-subscriber back=%v gap_reported_after=%v gap=[%v, %v] (%v) cause=%v",
		back.Sub(silence).Round(time.Millisecond), gapAt.Sub(silence).Round(time.Millisecond),
		gap.From.Sub(silence).Round(time.Millisecond), gap.To.Sub(silence).Round(time.Millisecond),
		gap.To.Sub(gap.From).Round(time.Millisecond), gap.Cause)
	assert.Less(t, back.Sub(silence), 5*time.Second, "delivery resumes within a few seconds (target: 2 s)")
	assert.False(t, gap.From.After(silence), "the gap starts no later than the silence")
	assert.True(t, gap.To.After(silence))
	assert.True(t, strings.Contains(gap.Cause.Error(), "went silent"), "cause: %v", gap.Cause)
}

// waitFor polls cond every 10 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}
