package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/conn/sentinel"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// The failover measurement: a Sentinel deployment of its own (started on
// first use, stopped by TestMain's teardown), and for each client a few
// goroutines writing distinct keys through it.
const (
	failoverWriters     = 4
	failoverCallTimeout = 2 * time.Second
	// failoverPatience is how long a round waits for a client to write to
	// the new master before it counts the client as not having moved.
	failoverPatience = 20 * time.Second
)

var sentinelDeployment = sync.OnceValues(func() (*redistest.TestSentinel, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTime)
	defer cancel()
	return redistest.StartSentinel(ctx, redistest.SentinelOptions{})
})

// failoverClient is one client under test, reduced to a SET.
type failoverClient struct {
	name  string
	set   func(ctx context.Context, key string) error
	close func() error
}

func failoverClients(ctx context.Context, d *redistest.TestSentinel) ([]failoverClient, error) {
	rw, err := sentinel.New(ctx, &sentinel.Options{MasterName: d.MasterName, Addrs: d.SentinelAddrs()})
	if err != nil {
		return nil, err
	}
	gr := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: d.MasterName, SentinelAddrs: d.SentinelAddrs()})
	ru, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:  d.SentinelAddrs(),
		Sentinel:     rueidis.SentinelOption{MasterSet: d.MasterName},
		DisableCache: true,
	})
	if err != nil {
		rw.Close()
		gr.Close()
		return nil, err
	}
	return []failoverClient{
		{"respwire", func(ctx context.Context, key string) error {
			_, err := rw.Do(ctx, "SET", key, "1")
			return err
		}, rw.Close},
		{"rueidis", func(ctx context.Context, key string) error {
			return ru.Do(ctx, ru.B().Set().Key(key).Value("1").Build()).Error()
		}, func() error { ru.Close(); return nil }},
		{"goredis", func(ctx context.Context, key string) error {
			return gr.Set(ctx, key, "1", 0).Err()
		}, gr.Close},
	}, nil
}

// failoverWrite is one SET of a round.
type failoverWrite struct {
	key        string
	start, end time.Time
	ok         bool
}

// failoverLoad writes keys prefix:<writer>:<n> through one client until
// stopped.
type failoverLoad struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	writes []failoverWrite
	last   string // the key of the latest successful write
}

func startFailoverLoad(c failoverClient, prefix string) *failoverLoad {
	l := &failoverLoad{stop: make(chan struct{})}
	for w := range failoverWriters {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				key := fmt.Sprintf("%s:%d:%d", prefix, w, i)
				ctx, cancel := context.WithTimeout(context.Background(), failoverCallTimeout)
				start := time.Now()
				err := c.set(ctx, key)
				end := time.Now()
				cancel()
				l.mu.Lock()
				l.writes = append(l.writes, failoverWrite{key, start, end, err == nil})
				if err == nil {
					l.last = key
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(time.Millisecond) // a client that fails at once must not spin
				}
			}
		})
	}
	return l
}

func (l *failoverLoad) latest() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// switchAnnounced returns a channel that gets the time of the first
// +switch-master any sentinel of d announces, and a function that stops
// listening.
func switchAnnounced(ctx context.Context, d *redistest.TestSentinel) (<-chan time.Time, func(), error) {
	ch := make(chan time.Time, 1)
	var once sync.Once
	onPush := func(v resp.Value) {
		if e := v.Elems(); len(e) == 3 {
			if kind, _ := e[0].Text(); kind == "message" {
				once.Do(func() { ch <- time.Now() })
			}
		}
	}
	var conns []*conn.Conn
	stop := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for _, addr := range d.SentinelAddrs() {
		c, err := conn.Dial(ctx, addr, &conn.Options{OnPush: onPush})
		if err == nil {
			conns = append(conns, c)
			err = c.Send(ctx, "SUBSCRIBE", "+switch-master")
		}
		if err != nil {
			stop()
			return nil, nil, err
		}
	}
	return ch, stop, nil
}

// failoverResult is one client's figures for one round.
type failoverResult struct {
	announce time.Duration // SENTINEL FAILOVER to the first +switch-master (the same for every client)
	window   time.Duration // SENTINEL FAILOVER to the end of its first write, started after the announcement, that the new master holds; -1 if none
	lost     int           // writes started after the announcement, acknowledged, and not on the new master
}

// BenchmarkSentinelFailover measures, for respwire, rueidis and go-redis
// side by side in the same failovers, the window from SENTINEL FAILOVER to
// the first write that reaches the new master, and how many writes started
// after +switch-master was announced were acknowledged yet are missing on
// the new master (they went to the old one, which stays a master until a
// sentinel converts it, up to 10 s later). Only writes started after the
// announcement count for the window: earlier ones, sent to the old master
// before the promotion, reach the new one by replication. So the window is
// the sentinels' own time to announce (the same for every client) plus the
// client's time to move. Each op is one failover; the figures are medians
// (window) and totals (lost) over the ops. It is a measurement, not a timed
// test: nothing fails on a slow window.
func BenchmarkSentinelFailover(b *testing.B) {
	d, err := sentinelDeployment()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	clients, err := failoverClients(ctx, d)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	results := make(map[string][]failoverResult)
	round := 0
	for b.Loop() {
		round++
		b.StopTimer()
		if err := d.Reset(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rs, err := failoverRound(ctx, d, clients, round)
		if err != nil {
			b.Fatal(err)
		}
		for name, r := range rs {
			results[name] = append(results[name], r)
		}
	}
	var lines []string
	var announces []time.Duration
	for _, r := range results[clients[0].name] {
		announces = append(announces, r.announce.Round(time.Millisecond))
	}
	slices.Sort(announces)
	for _, c := range clients {
		rs := results[c.name]
		windows := make([]time.Duration, 0, len(rs))
		reactions := make([]time.Duration, 0, len(rs))
		lost, stuck := 0, 0
		for _, r := range rs {
			if r.window < 0 {
				stuck++
				r.window = failoverPatience
			}
			windows = append(windows, r.window.Round(100*time.Microsecond))
			reactions = append(reactions, (r.window - r.announce).Round(100*time.Microsecond))
			lost += r.lost
		}
		slices.Sort(windows)
		slices.Sort(reactions)
		median, reaction := windows[len(windows)/2], reactions[len(reactions)/2]
		b.ReportMetric(float64(median.Microseconds())/1000, c.name+"-window-ms")
		b.ReportMetric(float64(reaction.Microseconds())/1000, c.name+"-after-announce-ms")
		b.ReportMetric(float64(lost), c.name+"-lost-writes")
		lines = append(lines, fmt.Sprintf("%-9s window median %7.1f ms (all: %v), after the announcement %7.1f ms (all: %v), writes lost after the announcement: %d, rounds without moving: %d",
			c.name, float64(median.Microseconds())/1000, windows, float64(reaction.Microseconds())/1000, reactions, lost, stuck))
	}
	b.ReportMetric(float64(announces[len(announces)/2].Microseconds())/1000, "announce-ms")
	b.Logf("SENTINEL FAILOVER → first write on the new master, %d failovers, %d writers per client; +switch-master announced after %v:\n%s",
		round, failoverWriters, announces, strings.Join(lines, "\n"))
}

// failoverRound runs one failover under every client's load and returns
// their figures.
func failoverRound(ctx context.Context, d *redistest.TestSentinel, clients []failoverClient, round int) (map[string]failoverResult, error) {
	old, err := d.Master(ctx)
	if err != nil {
		return nil, err
	}
	announced, stopWatch, err := switchAnnounced(ctx, d)
	if err != nil {
		return nil, err
	}
	defer stopWatch()
	loads := make([]*failoverLoad, len(clients))
	prefixes := make([]string, len(clients))
	for i, c := range clients {
		prefixes[i] = fmt.Sprintf("failover:%d:%s", round, c.name)
		loads[i] = startFailoverLoad(c, prefixes[i])
	}
	defer func() {
		for _, l := range loads {
			select {
			case <-l.stop:
			default:
				close(l.stop)
			}
			l.wg.Wait()
		}
	}()
	// Every client writes before the failover starts.
	if err := pollUntil(ctx, 10*time.Second, func() bool {
		for _, l := range loads {
			if l.latest() == "" {
				return false
			}
		}
		return true
	}); err != nil {
		return nil, fmt.Errorf("bench: a client does not write before the failover: %w", err)
	}
	started := time.Now()
	if err := d.StartFailover(ctx); err != nil {
		return nil, err
	}
	var announcedAt time.Time
	select {
	case announcedAt = <-announced:
	case <-time.After(failoverPatience):
		return nil, fmt.Errorf("bench: no +switch-master within %v", failoverPatience)
	}
	if err := d.WaitSwitched(ctx, old); err != nil {
		return nil, err
	}
	next, err := d.Master(ctx)
	if err != nil {
		return nil, err
	}
	// Until each client's latest write is on the new master, or patience
	// runs out.
	_ = pollUntil(ctx, failoverPatience, func() bool {
		for _, l := range loads {
			v, err := next.Do(ctx, "EXISTS", l.latest())
			if n, _ := v.Int(); err != nil || n != 1 {
				return false
			}
		}
		return true
	})
	for _, l := range loads {
		close(l.stop)
		l.wg.Wait()
	}
	results := make(map[string]failoverResult, len(clients))
	for i, c := range clients {
		v, err := next.Do(ctx, "KEYS", prefixes[i]+":*")
		if err != nil {
			return nil, err
		}
		held := make(map[string]bool, len(v.Elems()))
		for _, k := range v.Elems() {
			s, _ := k.Text()
			held[s] = true
		}
		r := failoverResult{announce: announcedAt.Sub(started), window: -1}
		for _, w := range loads[i].writes {
			if !w.ok || w.start.Before(announcedAt) {
				continue
			}
			if !held[w.key] {
				r.lost++
			} else if r.window < 0 || w.end.Sub(started) < r.window {
				r.window = w.end.Sub(started)
			}
		}
		results[c.name] = r
	}
	return results, nil
}

// pollUntil calls done every 10 ms until it reports true or patience runs
// out.
func pollUntil(ctx context.Context, patience time.Duration, done func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
