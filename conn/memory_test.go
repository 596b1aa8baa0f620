package conn

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// TestDoAllocations guards the design's targets: a GET allocates only its
// value's string, a SET nothing, on the serial path and with a context that
// can end.
func TestDoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c := dialTest(t, nil)
	_, err := c.Do(testContext(t), "SET", "conn:allocs", benchValue)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"background", context.Background()}, {"deadline", testContext(t)}} {
		get := testing.AllocsPerRun(200, func() {
			if _, err := c.Do(tc.ctx, "GET", "conn:allocs"); err != nil {
				t.Fatal(err)
			}
		})
		set := testing.AllocsPerRun(200, func() {
			if _, err := c.Do(tc.ctx, "SET", "conn:allocs", benchValue); err != nil {
				t.Fatal(err)
			}
		})
		assert.LessOrEqual(t, get, 1.0, "GET with a %s context", tc.name)
		assert.Zero(t, set, "SET with a %s context", tc.name)
	}
}

// TestDeadlinePerCallAllocations: a call under a deadline of its own, as a
// server passes one, allocates nothing beyond what context.WithTimeout
// costs and the value: reading its own reply, it never makes the context's
// Done channel.
func TestDeadlinePerCallAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c := dialTest(t, nil)
	lendLong(c) // every call finds the socket lent
	_, err := c.Do(context.Background(), "SET", "conn:allocs", benchValue)
	require.NoError(t, err)
	perCall := func(do func(ctx context.Context)) float64 {
		return testing.AllocsPerRun(200, func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			do(ctx)
			cancel()
		})
	}
	call := func(args ...string) func(ctx context.Context) {
		return func(ctx context.Context) {
			if _, err := c.Do(ctx, args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	timeout := perCall(func(context.Context) {})
	own := c.ownReads.Load()
	get := perCall(call("GET", "conn:allocs"))
	set := perCall(call("SET", "conn:allocs", benchValue))
	require.Greater(t, c.ownReads.Load(), own, "the calls read their own replies")
	assert.LessOrEqual(t, get-timeout, 1.0, "GET: %v allocations, WithTimeout alone %v", get, timeout)
	assert.LessOrEqual(t, set-timeout, 0.0, "SET: %v allocations, WithTimeout alone %v", set, timeout)
}

// idleConnBytes dials n Conns, puts each through a burst of large commands,
// and returns the heap and stack memory they hold once idle (quiet for a
// tick of their timers), per Conn, measured after a collection.
func idleConnBytes(tb testing.TB, n int) float64 {
	ctx := context.Background()
	addr := redistest.Server().Addr
	big := strings.Repeat("x", 256<<10)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]*Conn, n)
	for i := range conns {
		c, err := Dial(ctx, addr, nil)
		require.NoError(tb, err)
		// A burst of large commands and replies first, so that what a
		// used Conn keeps is counted.
		_, err = c.Do(ctx, "SET", "conn:idle:big", big)
		require.NoError(tb, err)
		_, err = c.Do(ctx, "GET", "conn:idle:big")
		require.NoError(tb, err)
		_, err = c.Do(ctx, "PING")
		require.NoError(tb, err)
		conns[i] = c
	}
	// Idle means quiet for a tick of the Conn's timer, which trims the
	// write buffers the burst left (see trimWriteBuffers).
	for _, c := range conns {
		require.Eventually(tb, func() bool { return c.writeBufferBytes() <= 2*maxKeptBuffer },
			10*time.Second, 10*time.Millisecond, "an idle Conn trims its write buffers")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for _, c := range conns {
		c.Close()
	}
	used := int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)
	return float64(used) / float64(n)
}

// TestIdleConnMemory checks the design's bound: an idle Conn holds at most
// 64 KiB.
func TestIdleConnMemory(t *testing.T) {
	perConn := idleConnBytes(t, 100)
	t.Logf("an idle Conn holds %.0f bytes", perConn)
	assert.LessOrEqual(t, perConn, float64(64<<10))
}
