package conn

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// newTestClient returns a Client of addr, closed when the test ends, and a
// context for the test's calls.
func newTestClient(t *testing.T, addr string) (*Client, context.Context) {
	t.Helper()
	ctx := testContext(t)
	c, err := NewClient(ctx, addr, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, ctx
}

func clientKey(t *testing.T, name string) string {
	return fmt.Sprintf("client-test:%s:%s", t.Name(), name)
}

func TestClientDo(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	k := clientKey(t, "k")

	v, err := c.Do(ctx, "SET", k, "v")
	require.NoError(t, err)
	assert.Equal(t, "OK", text(t, v))
	v, err = c.Do(ctx, "GET", k)
	require.NoError(t, err)
	assert.Equal(t, "v", text(t, v))

	_, err = c.Do(ctx, "NOSUCHCOMMAND")
	var serverErr *resp.Error
	require.ErrorAs(t, err, &serverErr)
	assert.Equal(t, "ERR", serverErr.Code)

	vs, err := c.DoMulti(ctx, []string{"DEL", k + "n"}, []string{"INCR", k + "n"}, []string{"INCR", k + "n"},
		[]string{"GET", k}, []string{"NOSUCHCOMMAND"})
	require.NoError(t, err)
	require.Len(t, vs, 5)
	n, err := vs[2].Int()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	assert.Equal(t, "v", text(t, vs[3]))
	assert.Error(t, vs[4].Err(), "error replies stay in the values")
}

func TestNewClientFailsWhenNothingListens(t *testing.T) {
	ctx := testContext(t)
	// A port that was free a moment ago: nothing listens there.
	n := redistest.NewNode(t, redistest.NodeOptions{})
	require.NoError(t, n.Stop())
	c, err := NewClient(ctx, n.Addr, nil)
	assert.Error(t, err)
	assert.Nil(t, c)
}

// TestClientRedialsAfterClientKill: the server drops every client; the
// Client dials again, and calls made after that succeed, including calls
// that wait while the redial is under way.
func TestClientRedialsAfterClientKill(t *testing.T) {
	server := redistest.Server()
	c, ctx := newTestClient(t, server.Addr)
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, "v")
	require.NoError(t, err)

	for range 3 {
		old := c.current.Load()
		_, err = server.Do(ctx, "CLIENT", "KILL", "TYPE", "normal")
		require.NoError(t, err)
		<-old.Done() // the Client has seen it: every call from now on is retried or waits

		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				v, err := c.Do(ctx, "GET", k)
				if assert.NoError(t, err) {
					assert.Equal(t, "v", text(t, v))
				}
			})
		}
		wg.Wait()
		assert.NotSame(t, old, c.current.Load())
	}
}

// TestClientSurvivesServerRestart: calls made while the server is down fail
// with the dial's error, unsent, and calls succeed again once it is back.
func TestClientSurvivesServerRestart(t *testing.T) {
	node := redistest.NewNode(t, redistest.NodeOptions{})
	c, ctx := newTestClient(t, node.Addr)
	old := c.current.Load()
	require.NoError(t, node.Kill())
	<-old.Done()

	_, err := c.Do(ctx, "PING")
	requireDialRefused(t, err)
	assert.True(t, SafeToRetry(err), "%v", err)

	require.NoError(t, node.Restart(ctx))
	waitConnected(t, c)
	v, err := c.Do(ctx, "PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", text(t, v))
}

// TestClientCloseRacesDo: calls from many goroutines racing Close each get
// a value or an error wrapping ErrClosed, and none hangs.
func TestClientCloseRacesDo(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	for range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == 10 {
					once.Do(func() { close(started) })
				}
				v, err := c.Do(ctx, "PING")
				if err != nil {
					assert.ErrorIs(t, err, ErrClosed)
					return
				}
				assert.Equal(t, "PONG", text(t, v))
			}
		})
	}
	<-started
	for range 4 {
		wg.Go(func() { assert.NoError(t, c.Close()) })
	}
	wg.Wait()
	// Calls after Close are refused unwritten: they wrap ErrClosed and are
	// safe to send elsewhere.
	_, doErr := c.Do(ctx, "PING")
	_, multiErr := c.DoMulti(ctx, []string{"PING"})
	_, blockingErr := c.Do(ctx, "BLPOP", "k", "0")
	dedicatedErr := c.Dedicated(ctx, func(*Conn) error { return nil })
	for i, err := range []error{doErr, multiErr, blockingErr, dedicatedErr} {
		assert.ErrorIs(t, err, ErrClosed, "call %d", i)
		assert.True(t, SafeToRetry(err), "call %d: %v", i, err)
	}
	assert.NoError(t, c.Close())
}

// TestClientBlockingCommandsGetTheirOwnConn: a BLPOP that waits forever does
// not hold up GETs on the shared Conn.
func TestClientBlockingCommandsGetTheirOwnConn(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	list, k := clientKey(t, "list"), clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, "v")
	require.NoError(t, err)

	popped := make(chan resp.Value, 1)
	go func() {
		v, err := c.Do(ctx, "blpop", list, "0")
		assert.NoError(t, err)
		popped <- v
	}()
	// Wait until the BLPOP is blocked in the server.
	require.Eventually(t, func() bool {
		v, err := c.Do(ctx, "INFO", "clients")
		return err == nil && infoField(text(t, v), "blocked_clients") != "0"
	}, 10*time.Second, time.Millisecond)

	for range 100 {
		v, err := c.Do(ctx, "GET", k)
		require.NoError(t, err)
		assert.Equal(t, "v", text(t, v))
	}
	assert.Empty(t, popped)

	_, err = c.Do(ctx, "LPUSH", list, "x")
	require.NoError(t, err)
	v := <-popped
	require.Len(t, v.Elems(), 2)
	assert.Equal(t, "x", text(t, v.Elems()[1]))
	assert.Equal(t, 1, c.pool.idleLen(), "a BLPOP that got its reply returns its Conn to the pool")
}

// TestClientBlockingCommandEndedByContext: a blocking command whose context
// ends leaves its reply pending, so its Conn is closed, not pooled.
func TestClientBlockingCommandEndedByContext(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	list := clientKey(t, "list")
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err := c.Do(short, "BLPOP", list, "0")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 0, c.pool.idleLen())

	// The next one dials afresh and gets its element.
	_, err = c.Do(ctx, "RPUSH", list, "a")
	require.NoError(t, err)
	vs, err := c.DoMulti(ctx, []string{"BLPOP", list, "0"}, []string{"PING"})
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.Equal(t, "a", text(t, vs[0].Elems()[1]))
}

// TestClientCloseEndsBlockingCommand: Close does not wait for a BLPOP that
// would wait forever; the BLPOP fails with ErrClosed.
func TestClientCloseEndsBlockingCommand(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	list := clientKey(t, "list")
	result := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "BRPOP", list, "0")
		result <- err
	}()
	require.Eventually(t, func() bool { return c.pool.loanedLen() == 1 }, 10*time.Second, time.Millisecond)
	require.NoError(t, c.Close())
	assert.ErrorIs(t, <-result, ErrClosed)
}

// TestClientDedicatedWatchConflict: WATCH, a conflicting write from another
// connection, then MULTI/EXEC: EXEC answers null.
func TestClientDedicatedWatchConflict(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, "0")
	require.NoError(t, err)

	err = c.Dedicated(ctx, func(cn *Conn) error {
		if _, err := cn.Do(ctx, "WATCH", k); err != nil {
			return err
		}
		// Another connection (the shared one) writes the watched key.
		if _, err := c.Do(ctx, "SET", k, "conflict"); err != nil {
			return err
		}
		vs, err := cn.DoMulti(ctx, []string{"MULTI"}, []string{"SET", k, "mine"}, []string{"EXEC"})
		if err != nil {
			return err
		}
		assert.True(t, vs[2].IsNull(), "EXEC after a conflicting write: %v", vs[2])
		return nil
	})
	require.NoError(t, err)
	v, err := c.Do(ctx, "GET", k)
	require.NoError(t, err)
	assert.Equal(t, "conflict", text(t, v))

	// Without a conflict the transaction goes through.
	err = c.Dedicated(ctx, func(cn *Conn) error {
		vs, err := cn.DoMulti(ctx, []string{"WATCH", k}, []string{"MULTI"}, []string{"SET", k, "mine"}, []string{"EXEC"})
		if err != nil {
			return err
		}
		assert.Len(t, vs[3].Elems(), 1)
		return nil
	})
	require.NoError(t, err)
	v, err = c.Do(ctx, "GET", k)
	require.NoError(t, err)
	assert.Equal(t, "mine", text(t, v))
}

// TestClientDedicatedCleansUp: a Conn handed back in the middle of MULTI is
// reset before the next caller gets it, and one whose fn failed for a broken
// connection is not handed out again.
func TestClientDedicatedCleansUp(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, "v")
	require.NoError(t, err)

	var first *Conn
	require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
		first = cn
		_, err := cn.Do(ctx, "MULTI")
		return err
	}))
	require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
		assert.Same(t, first, cn, "the healthy Conn is reused")
		v, err := cn.Do(ctx, "GET", k)
		require.NoError(t, err)
		assert.Equal(t, "v", text(t, v), "the MULTI left open was discarded")
		return cn.Close() // fn breaks the rules: the pool must not keep it
	}))
	assert.Equal(t, 0, c.pool.idleLen())

	errFn := errors.New("fn failed")
	assert.ErrorIs(t, c.Dedicated(ctx, func(*Conn) error { return errFn }), errFn)
	assert.Equal(t, 1, c.pool.idleLen(), "fn's error says nothing against the Conn")
	assert.Panics(t, func() {
		_ = c.Dedicated(ctx, func(*Conn) error { panic("fn panics") })
	})
	assert.Equal(t, 0, c.pool.idleLen(), "the Conn of a panicked fn is closed")
}

// TestClientDedicatedContextEnded: a Conn whose fn ended by its context may
// still owe a reply, so it is closed rather than pooled.
func TestClientDedicatedContextEnded(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	fnCtx, cancel := context.WithCancel(ctx)
	var lent *Conn
	err := c.Dedicated(fnCtx, func(cn *Conn) error {
		lent = cn
		cancel()
		_, err := cn.Do(fnCtx, "PING")
		return err
	})
	assert.ErrorIs(t, err, context.Canceled)
	<-lent.Done()
	assert.Equal(t, 0, c.pool.idleLen())
}

// TestClientKeepsOptionsAcrossRedials: the redialled Conn, and the
// dedicated ones, get the same handshake as the first.
func TestClientKeepsOptionsAcrossRedials(t *testing.T) {
	server := redistest.Server()
	ctx := testContext(t)
	opts := &Options{ClientName: "client-test-name", DB: 3}
	c, err := NewClient(ctx, server.Addr, opts)
	require.NoError(t, err)
	defer c.Close()
	opts.ClientName = "changed-after-NewClient" // the Client kept a copy

	check := func(do func(context.Context, ...string) (resp.Value, error)) {
		t.Helper()
		v, err := do(ctx, "CLIENT", "INFO")
		require.NoError(t, err)
		info := text(t, v)
		assert.Contains(t, info, " name=client-test-name ")
		assert.Contains(t, info, " db=3 ")
	}
	check(c.Do)
	old := c.current.Load()
	_, err = server.Do(ctx, "CLIENT", "KILL", "ID", clientID(t, old))
	require.NoError(t, err)
	<-old.Done()
	check(c.Do)
	require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
		check(cn.Do)
		return nil
	}))
}

// TestSynctestClientConnected: Connected is false while the shared Conn is
// dead and its redial pending, true once a redial replaced it, and false
// after Close.
func TestSynctestClientConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := fakeserver.New(t).Script(fakeserver.AcceptHello(), fakeserver.Close()).Handle(fakeHandler)
		redial := make(chan struct{})
		dials := 0
		dial := func(ctx context.Context) (*Conn, error) {
			if dials++; dials > 1 {
				<-redial
			}
			return NewConn(ctx, s.Pipe(), nil)
		}
		c, err := newClient(t.Context(), dial, 0)
		require.NoError(t, err)
		<-c.current.Load().Done()
		synctest.Wait()
		assert.False(t, c.Connected(), "the Conn died, the redial waits")
		close(redial)
		synctest.Wait()
		assert.True(t, c.Connected())
		require.NoError(t, c.Close())
		assert.False(t, c.Connected())
	})
}

// TestClientOnConnect: the hook runs on the first Conn, on every redial and
// on dedicated Conns, before any caller's command; a redial whose hook fails
// is tried again, and NewClient returns the first dial's hook error.
func TestClientOnConnect(t *testing.T) {
	server := redistest.Server()
	ctx := testContext(t)
	var mu sync.Mutex
	calls := 0
	failNext := false
	errHook := errors.New("hook refused")
	opts := &Options{OnConnect: func(ctx context.Context, cn *Conn) error {
		mu.Lock()
		calls++
		n, fail := calls, failNext
		failNext = false
		mu.Unlock()
		if fail {
			return errHook
		}
		_, err := cn.Do(ctx, "CLIENT", "SETNAME", fmt.Sprintf("onconnect-%d", n))
		return err
	}}
	c, err := NewClient(ctx, server.Addr, opts)
	require.NoError(t, err)
	defer c.Close()
	name := func(do func(context.Context, ...string) (resp.Value, error)) string {
		t.Helper()
		v, err := do(ctx, "CLIENT", "GETNAME")
		require.NoError(t, err)
		return text(t, v)
	}
	assert.Equal(t, "onconnect-1", name(c.Do))

	// The first redial's hook fails: that Conn is dropped, the next one
	// gets the hook again.
	mu.Lock()
	failNext = true
	mu.Unlock()
	old := c.current.Load()
	_, err = server.Do(ctx, "CLIENT", "KILL", "ID", clientID(t, old))
	require.NoError(t, err)
	<-old.Done()
	// Calls made while the failed redial is the latest fail with its error.
	if _, err := c.Do(ctx, "PING"); err != nil {
		assert.ErrorIs(t, err, errHook)
		assert.True(t, SafeToRetry(err), "%v", err)
	}
	waitConnected(t, c)
	assert.Equal(t, "onconnect-3", name(c.Do), "the redial after the failed one ran the hook")

	require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
		assert.Equal(t, "onconnect-4", name(cn.Do), "a dedicated Conn ran the hook")
		return nil
	}))
	mu.Lock()
	assert.Equal(t, 4, calls)
	mu.Unlock()

	_, err = NewClient(ctx, server.Addr, &Options{OnConnect: func(context.Context, *Conn) error { return errHook }})
	require.ErrorIs(t, err, errHook)
	assert.ErrorContains(t, err, "conn: OnConnect")
}

// waitConnected waits until c has a Conn again after losing one.
func waitConnected(t *testing.T, c *Client) {
	t.Helper()
	require.Eventually(t, c.Connected, 20*time.Second, time.Millisecond, "the Client did not redial")
}

func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return value
		}
	}
	return ""
}

func (p *connPool) idleLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

func (p *connPool) loanedLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.onLoan)
}

// BenchmarkClientGet is BenchmarkGet through a Client: the two should cost
// the same time and allocations, since Client.Do adds only an atomic load
// and a check of the command name.
func BenchmarkClientGet(b *testing.B) {
	ctx := context.Background()
	const key = "bench:client-get"
	if _, err := redistest.Server().Do(ctx, "SET", key, benchValue); err != nil {
		b.Fatal(err)
	}
	c, err := NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		w0 := c.current.Load().writes.Load()
		for b.Loop() {
			if _, err := c.Do(ctx, "GET", key); err != nil {
				b.Fatal(err)
			}
		}
		reportWrites(b, c.current.Load(), w0)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(128 / runtime.GOMAXPROCS(0))
		w0 := c.current.Load().writes.Load()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Do(ctx, "GET", key); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportWrites(b, c.current.Load(), w0)
	})
}
