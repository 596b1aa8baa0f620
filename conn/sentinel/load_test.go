package sentinel

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// callTimeout bounds each call of a load: a call that takes this long has
// hung.
const callTimeout = 10 * time.Second

// call is one SET of a load.
type call struct {
	key        string
	start, end time.Time
	err        error
}

// load runs SETs of distinct keys from many goroutines until stopped.
type load struct {
	stopCh chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	calls  []call
	ok     chan struct{} // gets a token after each success
}

func startLoad(c *Client, goroutines int, prefix string) *load {
	l := &load{stopCh: make(chan struct{}), ok: make(chan struct{}, 1)}
	for g := range goroutines {
		l.wg.Go(func() {
			var mine []call
			defer func() {
				l.mu.Lock()
				l.calls = append(l.calls, mine...)
				l.mu.Unlock()
			}()
			for i := 0; ; i++ {
				select {
				case <-l.stopCh:
					return
				default:
				}
				k := fmt.Sprintf("%s:%d:%d", prefix, g, i)
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				start := time.Now()
				_, err := c.Do(ctx, "SET", k, "v")
				mine = append(mine, call{key: k, start: start, end: time.Now(), err: err})
				cancel()
				if err == nil {
					select {
					case l.ok <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	return l
}

// successAfter waits until some call succeeds after now.
func (l *load) successAfter(t testing.TB, ctx context.Context) {
	t.Helper()
	select {
	case <-l.ok:
	default:
	}
	select {
	case <-l.ok:
	case <-ctx.Done():
		t.Fatal("no call succeeded")
	}
}

func (l *load) stop() []call {
	close(l.stopCh)
	l.wg.Wait()
	return l.calls
}

// loadReport sums up a load's calls around a moment of interest.
type loadReport struct {
	calls, failures int
	failedAfter     []call        // failed calls that started after the moment
	firstOK         time.Duration // from the moment to the end of the first success of a call started after it
	longest         time.Duration
	okAfter         []string // keys written by calls that started after the moment
}

func report(calls []call, moment time.Time) loadReport {
	r := loadReport{calls: len(calls), firstOK: -1}
	first := time.Time{}
	for _, c := range calls {
		r.longest = max(r.longest, c.end.Sub(c.start))
		if c.err != nil {
			r.failures++
		}
		if c.start.Before(moment) {
			continue
		}
		if c.err != nil {
			r.failedAfter = append(r.failedAfter, c)
			continue
		}
		r.okAfter = append(r.okAfter, c.key)
		if first.IsZero() || c.end.Before(first) {
			first = c.end
		}
	}
	if !first.IsZero() {
		r.firstOK = first.Sub(moment)
	}
	return r
}

// assertNoHang checks that every call returned within bound, and none
// outlived its context.
func (r loadReport) assertNoHang(t testing.TB, bound time.Duration) {
	t.Helper()
	assert.Less(t, r.longest, min(bound, callTimeout+time.Second), "a call hung")
}

// assertOnMaster checks that every key is on master, in batches.
func assertOnMaster(t testing.TB, ctx context.Context, master *redistest.Node, keys []string) {
	t.Helper()
	for len(keys) > 0 {
		n := min(len(keys), 500)
		v, err := master.Do(ctx, append([]string{"EXISTS"}, keys[:n]...)...)
		require.NoError(t, err)
		got, err := v.Int()
		require.NoError(t, err)
		require.Equal(t, int64(n), got, "acknowledged writes missing on the new master %s", master)
		keys = keys[n:]
	}
}
