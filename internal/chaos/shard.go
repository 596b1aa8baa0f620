package chaos

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/pubsub"
)

// ShardWatch subscribes to shard channels spread over the slots and
// publishes on them continuously, so a test can see when delivery stops and
// whether it comes back.
type ShardWatch struct {
	sub      *pubsub.Subscriber
	pub      Doer
	channels []string

	mu       sync.Mutex
	received map[string]map[string]bool // channel → markers seen

	published, got atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewShardWatch subscribes sub to n shard channels named prefix:ch<i> and
// starts a publisher on pub and a reader of sub's messages.
func NewShardWatch(ctx context.Context, sub *pubsub.Subscriber, pub Doer, prefix string, n int) (*ShardWatch, error) {
	w := &ShardWatch{sub: sub, pub: pub, received: make(map[string]map[string]bool), stop: make(chan struct{})}
	for i := range n {
		w.channels = append(w.channels, prefix+":ch"+strconv.Itoa(i))
	}
	if err := sub.SSubscribe(ctx, w.channels...); err != nil {
		return nil, err
	}
	w.wg.Go(w.read)
	w.wg.Go(w.publish)
	return w, nil
}

// Channels are the watched shard channels.
func (w *ShardWatch) Channels() []string { return w.channels }

func (w *ShardWatch) read() {
	for m := range w.sub.Messages() {
		w.got.Add(1)
		if len(m.Payload) > 7 && m.Payload[:7] == "marker:" {
			w.mu.Lock()
			if w.received[m.Channel] == nil {
				w.received[m.Channel] = make(map[string]bool)
			}
			w.received[m.Channel][m.Payload] = true
			w.mu.Unlock()
		}
	}
}

func (w *ShardWatch) publish() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		ch := w.channels[n%len(w.channels)]
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := w.pub.Do(ctx, "SPUBLISH", ch, "tick:"+strconv.Itoa(n)); err == nil {
			w.published.Add(1)
		}
		cancel()
	}
}

// Counts reports messages published and received so far.
func (w *ShardWatch) Counts() (published, received int64) {
	return w.published.Load(), w.got.Load()
}

// Resumed publishes a fresh marker on every channel, round after round,
// until one round reaches every channel or ctx ends: a message published
// after recovery must be received on each subscription.
func (w *ShardWatch) Resumed(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var missing []string
	for round := 0; ; round++ {
		marker := "marker:" + strconv.Itoa(round)
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		for _, ch := range w.channels {
			if _, err := w.pub.Do(pctx, "SPUBLISH", ch, marker); err == nil { // a failure shows as a missing marker
				w.published.Add(1)
			}
		}
		cancel()
		for range 5 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("chaos: no message after recovery on %v: %w", missing, ctx.Err())
			case <-tick.C:
			}
			missing = w.missing(marker)
			if len(missing) == 0 {
				return nil
			}
		}
	}
}

func (w *ShardWatch) missing(marker string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, ch := range w.channels {
		if !w.received[ch][marker] {
			out = append(out, ch)
		}
	}
	return out
}

// Close stops the publisher, closes the subscriber and waits.
func (w *ShardWatch) Close() error {
	close(w.stop)
	err := w.sub.Close()
	w.wg.Wait()
	return err
}
