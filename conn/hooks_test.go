package conn

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// hookRecorder keeps every event its Hooks receive, and each as text
// (formatted with %+v), for tests that search them.
type hookRecorder struct {
	mu        sync.Mutex
	commands  []CommandEvent
	pipelines []PipelineEvent
	dials     []DialEvent
	states    []StateEvent
	redials   []RedialEvent
	caches    []CacheEvent
	texts     []string
}

func (r *hookRecorder) record(e any, keep func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keep()
	r.texts = append(r.texts, fmt.Sprintf("%T %+v", e, e))
}

// hooks returns Hooks that record into r.
func (r *hookRecorder) hooks() *Hooks {
	return &Hooks{
		Command: func(_ context.Context, e CommandEvent) {
			r.record(e, func() { r.commands = append(r.commands, e) })
		},
		Pipeline: func(_ context.Context, e PipelineEvent) {
			r.record(e, func() { r.pipelines = append(r.pipelines, e) })
		},
		Dial:   func(_ context.Context, e DialEvent) { r.record(e, func() { r.dials = append(r.dials, e) }) },
		State:  func(e StateEvent) { r.record(e, func() { r.states = append(r.states, e) }) },
		Redial: func(e RedialEvent) { r.record(e, func() { r.redials = append(r.redials, e) }) },
		Cache:  func(e CacheEvent) { r.record(e, func() { r.caches = append(r.caches, e) }) },
	}
}

// lastCommand returns the latest CommandEvent.
func (r *hookRecorder) lastCommand(t *testing.T) CommandEvent {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.commands)
	return r.commands[len(r.commands)-1]
}

func (r *hookRecorder) snapshot() (states []StateEvent, redials []RedialEvent, dials []DialEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]StateEvent(nil), r.states...), append([]RedialEvent(nil), r.redials...), append([]DialEvent(nil), r.dials...)
}

// logRecorder is a slog handler's output, safe for concurrent writes.
type logRecorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logRecorder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// logger returns a Logger at Debug that writes into l.
func (l *logRecorder) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestHooksCommand: Command reports each call with its name, address, DB,
// duration, error and whether it was written: a GET, a WRONGTYPE error
// reply, a DoCmd, a context ended before the call (not written), one that
// ends while the reply is owed (written), and a call on a closed Conn (not
// written). Off, Statement holds nothing.
func TestHooksCommand(t *testing.T) {
	var rec hookRecorder
	srv := redistest.Server()
	c := dialNode(t, srv, &Options{Hooks: rec.hooks(), DB: 2})
	ctx := testContext(t)
	k := clientKey(t, "k")

	_, err := c.Do(ctx, "SET", k, "v")
	require.NoError(t, err)
	e := rec.lastCommand(t)
	assert.Equal(t, "SET", e.Name)
	assert.Equal(t, srv.Addr, e.Addr)
	assert.Equal(t, 2, e.DB)
	assert.Positive(t, e.Duration)
	assert.False(t, e.Start.IsZero())
	assert.NoError(t, e.Err)
	assert.True(t, e.Written)
	assert.Empty(t, e.Statement, "Statement is off")

	_, err = c.Do(ctx, "LPUSH", k, "x")
	require.Error(t, err)
	e = rec.lastCommand(t)
	var re *resp.Error
	require.ErrorAs(t, e.Err, &re)
	assert.Equal(t, "WRONGTYPE", re.Code)
	assert.True(t, e.Written)

	_, err = c.DoCmd(ctx, Cmd("get", k))
	require.NoError(t, err)
	e = rec.lastCommand(t)
	assert.Equal(t, "get", e.Name, "as the caller wrote it")
	assert.True(t, e.Written)

	ended, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Do(ended, "GET", k)
	require.ErrorIs(t, err, context.Canceled)
	e = rec.lastCommand(t)
	assert.ErrorIs(t, e.Err, context.Canceled)
	assert.False(t, e.Written, "never sent")

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = c.Do(short, "BLPOP", clientKey(t, "list"), "0")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	e = rec.lastCommand(t)
	assert.Equal(t, "BLPOP", e.Name)
	assert.ErrorIs(t, e.Err, context.DeadlineExceeded)
	assert.True(t, e.Written, "sent before its context ended")
	assert.GreaterOrEqual(t, e.Duration, 50*time.Millisecond)

	require.NoError(t, c.Close())
	_, err = c.Do(ctx, "GET", k)
	require.ErrorIs(t, err, ErrClosed)
	e = rec.lastCommand(t)
	assert.ErrorIs(t, e.Err, ErrClosed)
	assert.False(t, e.Written, "refused by a closed Conn")
}

// TestHooksPipeline: Pipeline reports DoMulti and DoMultiCmd with their
// length, first name and count of error replies.
func TestHooksPipeline(t *testing.T) {
	var rec hookRecorder
	c := dialTest(t, &Options{Hooks: rec.hooks()})
	ctx := testContext(t)
	k := clientKey(t, "k")

	_, err := c.DoMulti(ctx, []string{"SET", k, "v"}, []string{"INCR", k}, []string{"LPUSH", k, "x"}, []string{"GET", k})
	require.NoError(t, err)
	_, err = c.DoMultiCmd(ctx, Cmd("GET", k), Cmd("INCR", k))
	require.NoError(t, err)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.pipelines, 2)
	assert.Empty(t, rec.commands, "a pipeline is not reported command by command")
	p := rec.pipelines[0]
	assert.Equal(t, 4, p.Len)
	assert.Equal(t, "SET", p.Name)
	assert.Equal(t, 2, p.Errors)
	assert.NoError(t, p.Err)
	assert.True(t, p.Written)
	assert.Positive(t, p.Duration)
	assert.Equal(t, redistest.Server().Addr, p.Addr)
	p = rec.pipelines[1]
	assert.Equal(t, 2, p.Len)
	assert.Equal(t, 1, p.Errors)
}

// TestHooksDial: Dial reports a refused dial with its error, and a dial and
// handshake that succeeded; NewConn its handshake.
func TestHooksDial(t *testing.T) {
	var rec hookRecorder
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx := testContext(t)

	_, err = Dial(ctx, refused, &Options{Hooks: rec.hooks()})
	require.Error(t, err)
	c := dialTest(t, &Options{Hooks: rec.hooks()})
	_, _, dials := rec.snapshot()
	require.Len(t, dials, 2)
	assert.Equal(t, refused, dials[0].Addr)
	assert.Equal(t, err, dials[0].Err)
	assert.Equal(t, c.Addr(), dials[1].Addr)
	assert.NoError(t, dials[1].Err)
	assert.Positive(t, dials[1].Duration)
	assert.False(t, dials[1].Start.IsZero())

	// NewConn reports its handshake, with the peer's address.
	nc, err := net.Dial("tcp", redistest.Server().Addr)
	require.NoError(t, err)
	c2, err := NewConn(ctx, nc, &Options{Hooks: rec.hooks()})
	require.NoError(t, err)
	defer c2.Close()
	_, _, dials = rec.snapshot()
	require.Len(t, dials, 3)
	assert.Equal(t, nc.RemoteAddr().String(), dials[2].Addr)
	assert.NoError(t, dials[2].Err)
}

// TestHooksClientKill: a CLIENT KILL of a Client's shared Conn is reported
// as its move to closing, with the read error as cause, then to closed; the
// redial as a Redial event and a Dial.
func TestHooksClientKill(t *testing.T) {
	var rec hookRecorder
	srv := redistest.Server()
	ctx := testContext(t)
	c, err := NewClient(ctx, srv.Addr, &Options{Hooks: rec.hooks()})
	require.NoError(t, err)
	defer c.Close()
	old := c.current.Load()
	_, err = srv.Do(ctx, "CLIENT", "KILL", "ID", clientID(t, old))
	require.NoError(t, err)
	<-old.Done()
	require.Eventually(t, func() bool {
		_, redials, _ := rec.snapshot()
		return len(redials) > 0
	}, 20*time.Second, time.Millisecond)
	states, redials, dials := rec.snapshot()
	require.Len(t, states, 2)
	assert.Equal(t, StateEvent{Addr: srv.Addr, From: StateOpen, To: StateClosing, Cause: old.Err()}, states[0])
	assert.ErrorIs(t, states[0].Cause, ErrClosed)
	assert.NotErrorIs(t, states[0].Cause, ErrSilent)
	assert.Equal(t, StateClosing, states[1].From)
	assert.Equal(t, StateClosed, states[1].To)
	require.Len(t, redials, 1)
	assert.Equal(t, 1, redials[0].Attempt)
	assert.NoError(t, redials[0].Err)
	assert.Equal(t, srv.Addr, redials[0].Addr)
	assert.Positive(t, redials[0].Duration)
	require.Len(t, dials, 2, "the first dial and the redial")
	assert.NoError(t, dials[1].Err)
}

// TestHooksCloseAndSilent: Close is reported with ErrClosed as the cause; a
// link gone silent with a cause that wraps ErrSilent.
func TestHooksCloseAndSilent(t *testing.T) {
	var rec hookRecorder
	c := dialTest(t, &Options{Hooks: rec.hooks()})
	require.NoError(t, c.Close())
	states, _, _ := rec.snapshot()
	require.Len(t, states, 2)
	assert.Equal(t, ErrClosed, states[0].Cause)
	assert.Equal(t, ErrClosed, states[1].Cause)

	var silent hookRecorder
	p := proxied(t)
	c, err := Dial(testContext(t), p.Addr(), &Options{Hooks: silent.hooks()})
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, 1, p.Silence())
	_, err = c.Do(context.Background(), "GET", clientKey(t, "k"))
	require.ErrorIs(t, err, ErrSilent)
	<-c.Done()
	states, _, _ = silent.snapshot()
	require.Len(t, states, 2)
	assert.ErrorIs(t, states[0].Cause, ErrSilent)
	assert.ErrorIs(t, states[0].Cause, ErrClosed)
	assert.Equal(t, StateClosed, states[1].To)
}

// TestHooksDedicated: the Client's hooks reach its dedicated Conns: a BLPOP
// is reported by the Conn it ran on, not the shared one.
func TestHooksDedicated(t *testing.T) {
	var rec hookRecorder
	srv := redistest.Server()
	ctx := testContext(t)
	c, err := NewClient(ctx, srv.Addr, &Options{Hooks: rec.hooks()})
	require.NoError(t, err)
	defer c.Close()
	list := clientKey(t, "list")
	_, err = c.Do(ctx, "RPUSH", list, "x")
	require.NoError(t, err)
	_, err = c.Do(ctx, "BLPOP", list, "0")
	require.NoError(t, err)
	e := rec.lastCommand(t)
	assert.Equal(t, "BLPOP", e.Name)
	assert.Equal(t, srv.Addr, e.Addr)
	assert.True(t, e.Written)
	_, _, dials := rec.snapshot()
	assert.Len(t, dials, 2, "the shared Conn and the BLPOP's")
}

// panickingHooks returns Hooks whose every field panics, noting in calls
// which were called.
func panickingHooks(calls *sync.Map) *Hooks {
	bump := func(name string) {
		calls.Store(name, true)
		panic("hook " + name + " panicked")
	}
	return &Hooks{
		Command:  func(context.Context, CommandEvent) { bump("Command") },
		Pipeline: func(context.Context, PipelineEvent) { bump("Pipeline") },
		Dial:     func(context.Context, DialEvent) { bump("Dial") },
		State:    func(StateEvent) { bump("State") },
		Redial:   func(RedialEvent) { bump("Redial") },
		Cache:    func(CacheEvent) { bump("Cache") },
	}
}

// TestHooksPanicking: hooks that all panic break nothing: concurrent
// callers each get their own reply, a redial happens, and each field's panic
// is logged once at Error, with its value.
func TestHooksPanicking(t *testing.T) {
	var calls sync.Map
	var logs logRecorder
	srv := redistest.Server()
	ctx := testContext(t)
	c, err := NewClient(ctx, srv.Addr, &Options{Hooks: panickingHooks(&calls), Logger: logs.logger()})
	require.NoError(t, err)
	defer c.Close()
	prefix := clientKey(t, "")

	run := func() {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 50 {
					k := prefix + strconv.Itoa(w) + ":" + strconv.Itoa(i)
					val := "v" + strconv.Itoa(w*1000+i)
					_, err := c.Do(ctx, "SET", k, val)
					if !assert.NoError(t, err) {
						return
					}
					cached, err := c.DoCache(ctx, time.Minute, "GET", k)
					if !assert.NoError(t, err) {
						return
					}
					assert.Equal(t, val, text(t, cached))
					vals, err := c.DoMulti(ctx, []string{"GET", k}, []string{"STRLEN", k})
					if !assert.NoError(t, err) {
						return
					}
					assert.Equal(t, val, text(t, vals[0]))
					n, _ := vals[1].Int()
					assert.Equal(t, int64(len(val)), n)
				}
			})
		}
		wg.Wait()
	}
	run()
	old := c.current.Load()
	_, err = srv.Do(ctx, "CLIENT", "KILL", "ID", clientID(t, old))
	require.NoError(t, err)
	<-old.Done()
	waitConnected(t, c)
	run()

	out := logs.String()
	for _, field := range []string{"Command", "Pipeline", "Dial", "State", "Redial", "Cache"} {
		_, called := calls.Load(field)
		assert.True(t, called, "%s was called", field)
		assert.Equal(t, 1, bytes.Count([]byte(out), []byte("hook="+field+" ")), "%s's panic is logged once:\n%s", field, out)
		assert.Contains(t, out, "hook "+field+" panicked")
	}
	assert.Contains(t, out, "level=ERROR")
}

// TestHooksOnlyState: Hooks with only State set report its two moves, and
// the calls take their unhooked paths.
func TestHooksOnlyState(t *testing.T) {
	var states []StateEvent
	var mu sync.Mutex
	c := dialTest(t, &Options{Hooks: &Hooks{State: func(e StateEvent) {
		mu.Lock()
		states = append(states, e)
		mu.Unlock()
	}}})
	_, err := c.Do(testContext(t), "PING")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, states, 2)
}

// TestHooksClientCalls: a Client's Do, DoCmd, DoMulti and DoMultiCmd each
// report once, through whatever inner path the Client takes to its Conn.
func TestHooksClientCalls(t *testing.T) {
	var rec hookRecorder
	ctx := testContext(t)
	c, err := NewClient(ctx, redistest.Server().Addr, &Options{Hooks: rec.hooks(), IdlePing: -1})
	require.NoError(t, err)
	defer c.Close()
	k := clientKey(t, "k")

	_, err = c.Do(ctx, "SET", k, "v")
	require.NoError(t, err)
	_, err = c.DoCmd(ctx, Cmd("GET", k))
	require.NoError(t, err)
	_, err = c.DoMulti(ctx, []string{"GET", k}, []string{"INCR", k})
	require.NoError(t, err)
	_, err = c.DoMultiCmd(ctx, Cmd("GET", k), Cmd("STRLEN", k), Cmd("TTL", k))
	require.NoError(t, err)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.commands, 2)
	assert.Equal(t, "SET", rec.commands[0].Name)
	assert.Equal(t, "GET", rec.commands[1].Name)
	require.Len(t, rec.pipelines, 2)
	assert.Equal(t, 2, rec.pipelines[0].Len)
	assert.Equal(t, 1, rec.pipelines[0].Errors, "INCR of a non-number")
	assert.Equal(t, 3, rec.pipelines[1].Len)
	for _, p := range rec.pipelines {
		assert.True(t, p.Written)
	}
}

// TestHooksStream: DoStream and DoBuffer report one Command each.
func TestHooksStream(t *testing.T) {
	var rec hookRecorder
	ctx := testContext(t)
	c, err := NewClient(ctx, redistest.Server().Addr, &Options{Hooks: rec.hooks(), IdlePing: -1})
	require.NoError(t, err)
	defer c.Close()
	k := clientKey(t, "k")
	_, err = c.Do(ctx, "SET", k, "streamed")
	require.NoError(t, err)

	var b bytes.Buffer
	n, err := c.DoStream(ctx, &b, "GET", k)
	require.NoError(t, err)
	assert.Equal(t, int64(len("streamed")), n)
	got, err := c.DoBuffer(ctx, nil, "GET", k)
	require.NoError(t, err)
	assert.Equal(t, "streamed", string(got))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.commands, 3)
	for _, e := range rec.commands[1:] {
		assert.Equal(t, "GET", e.Name)
		assert.True(t, e.Written)
		assert.NoError(t, e.Err)
	}
}
