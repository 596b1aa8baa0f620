package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/resp"
)

// Doer is what the load runs its commands through: a cluster.Client or a
// conn.Client.
type Doer interface {
	Do(ctx context.Context, args ...string) (resp.Value, error)
	DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error)
}

// LoadOptions configures NewLoad.
type LoadOptions struct {
	Workers   int           // goroutines; default 8
	Keys      int           // keys per worker; default 16
	Deadline  time.Duration // per-call context timeout; default 1s
	Grace     time.Duration // a call returning later than Deadline+Grace is a hang; default 1s
	SlowAfter time.Duration // a successful call slower than this counts as degraded service; default 250ms
	Prefix    string        // key prefix; default "chaos"
	Pace      time.Duration // if set, each worker makes at most one call per Pace
}

// Load drives SET/GET/DoMulti traffic and checks every reply belongs to its
// call.
type Load struct {
	doer  Doer
	opts  LoadOptions
	epoch time.Time

	calls, failed, hangs, crossed atomic.Int64
	lastBad                       atomic.Int64 // ns since epoch of the end of the last failed or slow call

	mu        sync.Mutex
	firstErrs []string        // a few error texts, for the log
	crossText []string        // what the crossed replies looked like
	latencies []time.Duration // a uniform sample of the calls since the last TakeLatencies
	latSeen   int64           // calls since the last TakeLatencies

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewLoad returns a Load that is not running yet.
func NewLoad(d Doer, opts LoadOptions) *Load {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Keys <= 0 {
		opts.Keys = 16
	}
	if opts.Deadline <= 0 {
		opts.Deadline = time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = time.Second
	}
	if opts.SlowAfter <= 0 {
		opts.SlowAfter = 250 * time.Millisecond
	}
	if opts.Prefix == "" {
		opts.Prefix = "chaos"
	}
	return &Load{doer: d, opts: opts, epoch: time.Now(), stop: make(chan struct{})}
}

// Start starts the workers.
func (l *Load) Start() {
	for w := range l.opts.Workers {
		l.wg.Go(func() { l.work(w) })
	}
}

// Stop stops the workers and waits for them. It returns false if a worker
// was still inside a call Deadline+Grace after being told to stop: a hang
// that no deadline ended.
func (l *Load) Stop() bool {
	close(l.stop)
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(l.opts.Deadline + l.opts.Grace):
		l.hangs.Add(1)
		return false
	}
}

// Mark is the moment a fault is injected, for Summary.
type Mark struct{ at time.Duration }

// Mark returns the current moment.
func (l *Load) Mark() Mark { return Mark{time.Since(l.epoch)} }

// Stats is what the load has counted.
type Stats struct {
	Calls, Failed, Hangs, Crossed int64
	Degraded                      time.Duration // from the mark to the end of the last failed or slow call
	Errors, CrossedReplies        []string      // samples
}

// Stats reports the counts, with the degraded window measured from m.
func (l *Load) Stats(m Mark) Stats {
	s := Stats{
		Calls: l.calls.Load(), Failed: l.failed.Load(),
		Hangs: l.hangs.Load(), Crossed: l.crossed.Load(),
	}
	if last := time.Duration(l.lastBad.Load()); last > m.at {
		s.Degraded = last - m.at
	}
	l.mu.Lock()
	s.Errors = slices.Clone(l.firstErrs)
	s.CrossedReplies = slices.Clone(l.crossText)
	l.mu.Unlock()
	return s
}

// Summary is the one-line report of a fault test.
func (l *Load) Summary(fault string, m Mark) string {
	s := l.Stats(m)
	return fmt.Sprintf("fault=%s degraded=%.2fs failed=%d/%d hangs=%d crossed=%d",
		fault, s.Degraded.Seconds(), s.Failed, s.Calls, s.Hangs, s.Crossed)
}

// TakeLatencies returns the latencies of the calls made since the last call
// and forgets them.
func (l *Load) TakeLatencies() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.latencies
	l.latencies, l.latSeen = nil, 0
	return out
}

// maxLatencySamples bounds the latency sample kept between two
// TakeLatencies; past it, reservoir sampling keeps it uniform.
const maxLatencySamples = 1 << 17

// sampleLatency records took; l.mu is held.
func (l *Load) sampleLatency(took time.Duration) {
	l.latSeen++
	if len(l.latencies) < maxLatencySamples {
		l.latencies = append(l.latencies, took)
		return
	}
	if j := rand.Int64N(l.latSeen); j < maxLatencySamples {
		l.latencies[j] = took
	}
}

// Calls is the number of calls made so far.
func (l *Load) Calls() int64 { return l.calls.Load() }

func (l *Load) key(w, k int) string {
	return l.opts.Prefix + ":w" + strconv.Itoa(w) + ":k" + strconv.Itoa(k)
}

// value is unique to its key and write, so a reply carrying another key's
// value is a crossed reply.
func value(key string, n int) string { return key + "=" + strconv.Itoa(n) }

func belongs(v resp.Value, key string) bool {
	if v.IsNull() { // never written, or lost with a killed master
		return true
	}
	s, err := v.Text()
	return err == nil && strings.HasPrefix(s, key+"=")
}

func (l *Load) work(w int) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(l.epoch.UnixNano())))
	var pace <-chan time.Time
	if l.opts.Pace > 0 {
		tick := time.NewTicker(l.opts.Pace)
		defer tick.Stop()
		pace = tick.C
	}
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		if pace != nil {
			select {
			case <-l.stop:
				return
			case <-pace:
			}
		}
		k1, k2 := l.key(w, rng.IntN(l.opts.Keys)), l.key(w, rng.IntN(l.opts.Keys))
		switch n % 3 {
		case 0:
			l.call(func(ctx context.Context) (bool, string, error) {
				v, err := l.doer.Do(ctx, "SET", k1, value(k1, n))
				if err != nil {
					return true, "", err
				}
				s, _ := v.Text()
				return s == "OK", "SET " + k1 + " -> " + v.String(), nil
			})
		case 1:
			l.call(func(ctx context.Context) (bool, string, error) {
				v, err := l.doer.Do(ctx, "GET", k1)
				if err != nil {
					return true, "", err
				}
				return belongs(v, k1), "GET " + k1 + " -> " + v.String(), nil
			})
		case 2:
			l.call(func(ctx context.Context) (bool, string, error) {
				return l.multi(ctx, k1, k2, n)
			})
		}
	}
}

// multi writes two keys and reads them back in one DoMulti; each GET must
// return exactly what the SET before it wrote, unless a fault failed one.
func (l *Load) multi(ctx context.Context, k1, k2 string, n int) (bool, string, error) {
	v1, v2 := value(k1, n), value(k2, n)
	if k1 == k2 {
		v2 = v1
	}
	replies, err := l.doer.DoMulti(ctx,
		[]string{"SET", k1, v1}, []string{"GET", k1},
		[]string{"SET", k2, v2}, []string{"GET", k2})
	if err != nil {
		return true, "", err
	}
	if len(replies) != 4 {
		return false, fmt.Sprintf("DoMulti: %d replies to 4 commands", len(replies)), nil
	}
	for i, r := range replies {
		if rerr := r.Err(); rerr != nil {
			return true, "", rerr
		}
		key, want := k1, v1
		if i >= 2 {
			key, want = k2, v2
		}
		if i%2 == 0 {
			if s, _ := r.Text(); s != "OK" {
				return false, "DoMulti SET " + key + " -> " + r.String(), nil
			}
			continue
		}
		if s, _ := r.Text(); s != want && !(k1 == k2 && belongs(r, key)) {
			return false, "DoMulti GET " + key + " want " + want + " -> " + r.String(), nil
		}
	}
	return true, "", nil
}

// call runs one checked call under its own deadline and counts it.
func (l *Load) call(fn func(ctx context.Context) (ok bool, what string, err error)) {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.Deadline)
	start := time.Now()
	ok, what, err := fn(ctx)
	took := time.Since(start)
	cancel()
	l.calls.Add(1)
	bad := err != nil || took > l.opts.SlowAfter
	if took > l.opts.Deadline+l.opts.Grace {
		l.hangs.Add(1)
	}
	if bad {
		l.lastBad.Store(int64(time.Since(l.epoch)))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sampleLatency(took)
	switch {
	case err != nil:
		l.failed.Add(1)
		if len(l.firstErrs) < 5 {
			l.firstErrs = append(l.firstErrs, err.Error())
		}
	case !ok:
		l.crossed.Add(1)
		if len(l.crossText) < 5 {
			l.crossText = append(l.crossText, what)
		}
	}
}

// Percentile returns the p-th percentile (0..100) of ds, sorting ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// quietFor reports whether no call has failed or been slow for d.
func (l *Load) quietFor(d time.Duration) bool {
	return time.Since(l.epoch)-time.Duration(l.lastBad.Load()) > d
}
