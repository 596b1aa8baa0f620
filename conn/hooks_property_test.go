package conn

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// callIDKey carries a call's number in its context, so that the hooks can
// tell whose call each event reports.
type callIDKey struct{}

// callEvents are the events one call's context got.
type callEvents struct {
	commands  []CommandEvent
	pipelines []PipelineEvent
	foreign   int // events about a command the call didn't make
}

// eventsByCall records Command and Pipeline events by the call number in
// their context.
type eventsByCall struct {
	mu     sync.Mutex
	calls  map[int]*callEvents
	noCall atomic.Int64 // events whose context carried no call number
}

func (r *eventsByCall) get(ctx context.Context) *callEvents {
	id, ok := ctx.Value(callIDKey{}).(int)
	if !ok {
		r.noCall.Add(1)
		return nil
	}
	if r.calls[id] == nil {
		r.calls[id] = &callEvents{}
	}
	return r.calls[id]
}

func (r *eventsByCall) hooks() *Hooks {
	return &Hooks{
		Command: func(ctx context.Context, e CommandEvent) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if ce := r.get(ctx); ce != nil {
				if strings.EqualFold(e.Name, "INCR") {
					ce.commands = append(ce.commands, e)
				} else {
					ce.foreign++
				}
			}
		},
		Pipeline: func(ctx context.Context, e PipelineEvent) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if ce := r.get(ctx); ce != nil {
				if strings.EqualFold(e.Name, "INCR") || strings.EqualFold(e.Name, "MULTI") {
					ce.pipelines = append(ce.pipelines, e)
				} else {
					ce.foreign++
				}
			}
		},
	}
}

// propCall is one call of the random mix and what it returned.
type propCall struct {
	kind       string
	key        string
	incrs      int // INCRs of key the call sends
	start, end time.Time
	err        error
	ctxEnded   bool // the call returned its context's error
}

// runPropCall makes call i, of a random kind with a random context, on c.
func runPropCall(ctx context.Context, rng *rand.Rand, c *Client, prefix string, i int) *propCall {
	return runPropCallOf(ctx, rng.IntN(4), time.Duration(rng.IntN(400))*time.Microsecond, rng.IntN(7), c, prefix, i)
}

// runPropCallOf makes call i of the kind given, with a context of mode
// (0: lasts, 1: ended before, else: ends after timeout).
func runPropCallOf(ctx context.Context, mode int, timeout time.Duration, kind int, c *Client, prefix string, i int) *propCall {
	pc := &propCall{key: prefix + strconv.Itoa(i), incrs: 1}
	ctx = context.WithValue(ctx, callIDKey{}, i)
	var cancel context.CancelFunc = func() {}
	switch mode {
	case 0: // a context that lasts
	case 1: // ended before the call
		ctx, cancel = context.WithCancel(ctx)
		cancel()
	default: // ends at a random point of the call
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	incr := []string{"INCR", pc.key}
	pc.start = time.Now()
	switch kind {
	case 0:
		pc.kind = "Do"
		_, pc.err = c.Do(ctx, incr...)
	case 1:
		pc.kind = "DoCmd"
		_, pc.err = c.DoCmd(ctx, Cmd("INCR", pc.key))
	case 2:
		pc.kind, pc.incrs = "DoMulti", 2
		_, pc.err = c.DoMulti(ctx, incr, incr)
	case 3:
		pc.kind, pc.incrs = "DoMultiCmd", 2
		_, pc.err = c.DoMultiCmd(ctx, Cmd("INCR", pc.key), Cmd("INCR", pc.key))
	case 4:
		pc.kind = "MULTI"
		var vals []resp.Value
		vals, pc.err = c.DoMulti(ctx, []string{"MULTI"}, incr, []string{"EXEC"})
		if pc.err == nil && vals[2].Err() != nil {
			pc.err = vals[2].Err()
		}
	case 5:
		pc.kind = "Dedicated"
		pc.err = c.Dedicated(ctx, func(cn *Conn) error {
			_, err := cn.Do(ctx, incr...)
			return err
		})
	case 6:
		pc.kind = "blocking"
		_, pc.err = c.DoMulti(ctx, incr, []string{"BLPOP", pc.key + ":list", "0.01"})
	}
	pc.end = time.Now()
	pc.ctxEnded = errors.Is(pc.err, context.Canceled) || errors.Is(pc.err, context.DeadlineExceeded)
	return pc
}

// killClients kills, from the server's side, every connection named name.
func killClients(ctx context.Context, srv *redistest.Node, name string) int {
	v, err := srv.Do(ctx, "CLIENT", "LIST")
	if err != nil {
		return 0
	}
	list, _ := v.Text()
	killed := 0
	for line := range strings.SplitSeq(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") {
			continue
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
		if _, err := srv.Do(ctx, "CLIENT", "KILL", "ID", id); err == nil {
			killed++
		}
	}
	return killed
}

// TestHooksPropertyRandomMix runs a random mix of calls of every kind, with
// contexts that end at random points, while the Client's connections are
// killed from the server's side, and checks each call's events against
// what the server ran: every INCR key counts how often its call's commands
// ran, so an event with Written false must belong to a call the server
// never saw, and no call may run twice.
func TestHooksPropertyRandomMix(t *testing.T) {
	srv := redistest.Server()
	ctx := testContext(t)
	var rec eventsByCall
	rec.calls = make(map[int]*callEvents)
	name := "hooksprop" + strconv.FormatInt(time.Now().UnixNano(), 36)
	hooks := rec.hooks()
	c, err := NewClient(ctx, srv.Addr, &Options{Hooks: hooks, ClientName: name})
	require.NoError(t, err)
	defer c.Close()
	// A second Client given the same *Hooks, for the race detector.
	c2, err := NewClient(ctx, srv.Addr, &Options{Hooks: hooks, ClientName: name})
	require.NoError(t, err)
	defer c2.Close()
	prefix := clientKey(t, "")
	before := c.Stats()
	before2 := c2.Stats()

	const workers, perWorker = 6, 150
	calls := make([]*propCall, workers*perWorker)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for j := range perWorker {
				i := w*perWorker + j
				on := c
				if i%2 == 1 {
					on = c2
				}
				calls[i] = runPropCall(ctx, rng, on, prefix, i)
			}
		})
	}
	done := make(chan struct{})
	// Stats read in a tight loop from several goroutines, across the
	// kills and redials: no counter goes down between two snapshots.
	var downs atomic.Int64
	var readers sync.WaitGroup
	for range 3 {
		readers.Go(func() {
			prev := c.Stats()
			for {
				select {
				case <-done:
					return
				default:
				}
				cur := c.Stats()
				if cur.Commands < prev.Commands || cur.Errors < prev.Errors || cur.Timeouts < prev.Timeouts ||
					cur.Dials < prev.Dials || cur.Redials < prev.Redials || cur.Closed < prev.Closed ||
					cur.BytesWritten < prev.BytesWritten || cur.BytesRead < prev.BytesRead {
					downs.Add(1)
				}
				prev = cur
			}
		})
	}
	var kills atomic.Int64
	killer := make(chan struct{})
	go func() {
		defer close(killer)
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				kills.Add(int64(killClients(ctx, srv, name)))
			}
		}
	}()
	wg.Wait()
	close(done)
	<-killer
	readers.Wait()

	keys := make([]string, len(calls))
	for i, pc := range calls {
		keys[i] = pc.key
	}
	v, err := srv.Do(ctx, append([]string{"MGET"}, keys...)...)
	require.NoError(t, err)
	ran := v.Elems()
	require.Len(t, ran, len(calls))

	var timeouts, replies uint64
	kinds := map[string]int{}
	for i, pc := range calls {
		n := 0
		if !ran[i].IsNull() {
			s, _ := ran[i].Text()
			n, _ = strconv.Atoi(s)
		}
		rec.mu.Lock()
		ce := rec.calls[i]
		rec.mu.Unlock()
		if ce == nil {
			ce = &callEvents{}
		}
		kinds[pc.kind]++
		what := pc.kind + " call " + strconv.Itoa(i) + " (err " + errText(pc.err) + ")"
		assert.LessOrEqual(t, n, pc.incrs, "%s: the server ran it once at most", what)
		if pc.err == nil {
			assert.Equal(t, pc.incrs, n, "%s: a call answered ran", what)
		}
		if pc.ctxEnded {
			timeouts++
		}
		var events []bool // Written of the call's events about its INCRs
		for _, e := range ce.commands {
			events = append(events, e.Written)
			checkEventTimes(t, what, pc, e.Start, e.Duration)
			assert.Equal(t, srv.Addr, e.Addr, what)
			if e.Err == nil {
				replies++
			}
		}
		for _, e := range ce.pipelines {
			events = append(events, e.Written)
			checkEventTimes(t, what, pc, e.Start, e.Duration)
			assert.Equal(t, srv.Addr, e.Addr, what)
			if e.Err == nil {
				replies += uint64(e.Len)
			}
		}
		written := false
		for j, w := range events {
			written = written || w
			if j < len(events)-1 {
				assert.False(t, w, "%s: only its last event may be written, got %v", what, events)
			}
		}
		if !written {
			assert.Zero(t, n, "%s: no event written, yet the server ran it (events %v)", what, events)
		}
		if pc.err == nil {
			require.NotEmpty(t, events, "%s: answered, so reported", what)
			assert.True(t, events[len(events)-1], "%s: answered, so its last event was written", what)
		}
		if ce.foreign > 0 {
			t.Errorf("%s: %d events of commands it didn't send", what, ce.foreign)
		}
	}
	after, after2 := c.Stats(), c2.Stats()
	t.Logf("kinds %v, %d kills; events without a call: %d; stats delta: commands %d errors %d timeouts %d redials %d; replies in events %d, calls that timed out %d",
		kinds, kills.Load(), rec.noCall.Load(), after.Commands+after2.Commands-before.Commands-before2.Commands,
		after.Errors+after2.Errors-before.Errors-before2.Errors, after.Timeouts+after2.Timeouts-before.Timeouts-before2.Timeouts,
		after.Redials+after2.Redials-before.Redials-before2.Redials, replies, timeouts)
	assert.Positive(t, kills.Load(), "connections were killed on the way")
	assert.Zero(t, rec.noCall.Load(), "every event carries its caller's context")
	assert.Equal(t, timeouts, after.Timeouts+after2.Timeouts-before.Timeouts-before2.Timeouts,
		"Timeouts counts the calls that returned their context's error")
	assert.Zero(t, downs.Load(), "no counter of Stats went down between two snapshots")
}

func errText(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// checkEventTimes checks that an event's Start and Duration lie within its
// call.
func checkEventTimes(t *testing.T, what string, pc *propCall, start time.Time, d time.Duration) {
	t.Helper()
	assert.GreaterOrEqual(t, d, time.Duration(0), what)
	assert.False(t, start.Before(pc.start), "%s: the event starts within the call", what)
	assert.False(t, start.Add(d).After(pc.end), "%s: the event ends within the call", what)
}
