package conn

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/faultproxy"
	"github.com/respwire/respwire/internal/redistest"
)

// proxied starts a fault proxy in front of the package's server.
func proxied(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(redistest.Server().Addr)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// TestSilentConnCloses: a link silenced while a call with a context that
// never ends waits on it. The Conn probes, finds the server answering on a
// fresh connection, and closes: the call fails with ErrSilent and
// ErrClosed, within a second with the default options. Before, the call
// waited forever.
func TestSilentConnCloses(t *testing.T) {
	p := proxied(t)
	c, err := Dial(testContext(t), p.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(context.Background(), "PING")
	require.NoError(t, err)

	require.Equal(t, 1, p.Silence())
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), "GET", "conn:silent")
		errc <- err
	}()
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("the call still waits 10 s after the link went silent")
	}
	took := time.Since(start)
	t.Logf("the call failed %v after the link went silent: %v", took, err)
	assert.ErrorIs(t, err, ErrSilent)
	assert.ErrorIs(t, err, ErrClosed)
	assert.Contains(t, err.Error(), "went silent")
	assert.Less(t, took, time.Second)
	<-c.Done()
}

// TestIdleConnFindsItsLinkLost: a Conn with nothing in flight whose link
// goes silent finds it out by itself, through its idle PING, and closes.
func TestIdleConnFindsItsLinkLost(t *testing.T) {
	p := proxied(t)
	c, err := Dial(testContext(t), p.Addr(), &Options{IdlePing: 100 * time.Millisecond})
	require.NoError(t, err)
	defer c.Close()
	p.Silence()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the idle Conn did not notice its silent link")
	}
	_, err = c.Do(testContext(t), "PING")
	assert.ErrorIs(t, err, ErrClosed)
}

// TestIdlePingIsCheap: an idle Conn sends about one PING a second, no more,
// and none while a MULTI sent by Do is open.
func TestIdlePingIsCheap(t *testing.T) {
	n := redistest.NewNode(t, redistest.NodeOptions{})
	ctx := testContext(t)
	dialNode(t, n, nil) // idle, with the default IdlePing
	pings := func() int {
		info, err := n.Info(ctx, "commandstats")
		require.NoError(t, err)
		s := info["cmdstat_ping"] // calls=3,usec=...
		calls, _, _ := strings.Cut(strings.TrimPrefix(s, "calls="), ",")
		got, _ := strconv.Atoi(calls)
		return got
	}
	_, err := n.Do(ctx, "CONFIG", "RESETSTAT")
	require.NoError(t, err)
	start := time.Now()
	require.Eventually(t, func() bool { return pings() >= 2 }, 10*time.Second, 10*time.Millisecond)
	elapsed := time.Since(start)
	assert.LessOrEqual(t, pings(), int(elapsed/time.Second)+1, "more than one PING a second")

	// Inside a transaction, a PING would be queued: none is sent.
	quick := dialNode(t, n, &Options{IdlePing: 50 * time.Millisecond})
	_, err = quick.Do(ctx, "MULTI")
	require.NoError(t, err)
	before := pings()
	select { // ten idle PINGs' time: an absence has no event to wait for
	case <-quick.Done():
		t.Fatalf("the Conn closed inside MULTI: %v", quick.Err())
	case <-time.After(500 * time.Millisecond):
	}
	v, err := quick.Do(ctx, "EXEC")
	require.NoError(t, err)
	assert.Empty(t, v.Elems(), "a PING was queued in the transaction")
	assert.Equal(t, before, pings())
}

// TestSlowServerKeepsConns: a server that is slow but alive keeps its
// connections: DEBUG SLEEP (the fresh PING is not answered either), a long
// script (the fresh PING is answered BUSY) and a big reply that arrives
// slowly (the Conn keeps reading).
func TestSlowServerKeepsConns(t *testing.T) {
	n := redistest.NewNode(t, redistest.NodeOptions{Config: []string{"busy-reply-threshold 200"}})
	ctx := testContext(t)
	c := dialNode(t, n, nil)

	t.Run("DEBUG SLEEP", func(t *testing.T) {
		var wg sync.WaitGroup
		wg.Go(func() {
			_, err := c.Do(context.Background(), "DEBUG", "SLEEP", "2")
			assert.NoError(t, err)
		})
		require.Eventually(t, func() bool { w, _ := c.inFlight(); return w == 1 }, 10*time.Second, time.Millisecond)
		v, err := c.Do(context.Background(), "ECHO", "after the sleep")
		require.NoError(t, err)
		assert.Equal(t, "after the sleep", text(t, v))
		wg.Wait()
		assert.Equal(t, StateOpen, c.State())
	})
	t.Run("BUSY script", func(t *testing.T) {
		const script = "local t = redis.call('TIME'); local start = t[1] * 1000 + t[2] / 1000; " +
			"repeat t = redis.call('TIME') until t[1] * 1000 + t[2] / 1000 - start > 1500; return 1"
		v, err := c.Do(context.Background(), "EVAL", script, "0")
		require.NoError(t, err)
		assert.Equal(t, "1", strconv.FormatInt(must(v.Int()), 10))
		assert.Equal(t, StateOpen, c.State())
	})
	t.Run("slow big reply", func(t *testing.T) {
		p, err := faultproxy.Start(n.Addr)
		require.NoError(t, err)
		defer p.Close()
		slow, err := Dial(ctx, p.Addr(), nil)
		require.NoError(t, err)
		defer slow.Close()
		big := strings.Repeat("x", 24<<20)
		_, err = slow.Do(ctx, "SET", "conn:slow:big", big)
		require.NoError(t, err)
		p.SetLatency(3 * time.Millisecond) // each 32 KiB: about 2.3 s for the reply
		start := time.Now()
		v, err := slow.Do(context.Background(), "GET", "conn:slow:big")
		require.NoError(t, err)
		t.Logf("the reply took %v", time.Since(start))
		assert.Len(t, text(t, v), len(big))
		assert.Equal(t, StateOpen, slow.State())
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSilentConnClosesUnderLoad: callers that keep writing to a silent link
// (each with a short deadline) do not keep it looking alive: small writes
// go into the kernel's buffers whether the link is alive or not, so only
// reads, and the progress of big writes, count.
func TestSilentConnClosesUnderLoad(t *testing.T) {
	p := proxied(t)
	c, err := Dial(testContext(t), p.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, 1, p.Silence())
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				_, _ = c.Do(short, "PING")
				cancel()
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		})
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Error("the silent Conn stayed open 10 s under load")
	}
	took := time.Since(start)
	close(stop)
	wg.Wait()
	t.Logf("closed %v after the link went silent", took)
	assert.Less(t, took, time.Second)
}
