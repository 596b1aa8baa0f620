package conn

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// TestDoCacheHitAllocations guards the design's target: a cache hit
// allocates nothing (DoCache and DoMultiCache's lookups alike).
func TestDoCacheHitAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c, ctx := newCacheClient(t, nil)
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, benchValue)
	require.NoError(t, err)
	_, err = c.DoCache(ctx, time.Minute, "GET", k)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := c.DoCache(ctx, time.Minute, "GET", k); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// benchCacheClient is a caching Client of the package's server with
// benchKeys keys of benchValue set.
func benchCacheClient(b *testing.B) *Client {
	b.Helper()
	ctx := context.Background()
	c, err := NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

const benchKeys = 1000

func benchCacheKey(i int) string { return "bench:cache:" + strconv.Itoa(i%benchKeys) }

func BenchmarkDoCache(b *testing.B) {
	ctx := context.Background()
	if _, err := redistest.Server().Do(ctx, "SET", "bench:cache:0", benchValue); err != nil {
		b.Fatal(err)
	}
	b.Run("hit-serial", func(b *testing.B) {
		c := benchCacheClient(b)
		if _, err := c.DoCache(ctx, time.Hour, "GET", "bench:cache:0"); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.DoCache(ctx, time.Hour, "GET", "bench:cache:0"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		c := benchCacheClient(b)
		keys := make([]string, benchKeys)
		for i := range keys {
			keys[i] = benchCacheKey(i)
			if _, err := c.DoCache(ctx, time.Hour, "GET", keys[i]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.SetParallelism(128 / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				if _, err := c.DoCache(ctx, time.Hour, "GET", keys[i%benchKeys]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("miss-serial", func(b *testing.B) {
		// Every call is a miss: an entry that lived 1 ns is gone by the
		// next call.
		c := benchCacheClient(b)
		cn := c.current.Load()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.DoCache(ctx, time.Nanosecond, "GET", "bench:cache:0"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cn.ownReads.Load())/float64(b.N), "own-reads/op")
	})
	b.Run("miss-vs-get-serial", func(b *testing.B) {
		// Per op, one after the other so that a loaded machine slows all
		// alike: a miss and a plain GET on a caching Client, and a plain
		// GET on a Client with caching off. miss/get is the miss against
		// that last GET, the ratio the design bounds (1.2); get/plain
		// shows whether caching slows the Client's other calls.
		c := benchCacheClient(b)
		plain, err := NewClient(ctx, redistest.Server().Addr, &Options{DisableCache: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = plain.Close() })
		var miss, get, plainGet time.Duration
		b.ReportAllocs()
		for b.Loop() {
			t0 := time.Now()
			if _, err := c.DoCache(ctx, time.Nanosecond, "GET", "bench:cache:0"); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := c.Do(ctx, "GET", "bench:cache:0"); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			if _, err := plain.Do(ctx, "GET", "bench:cache:0"); err != nil {
				b.Fatal(err)
			}
			miss, get, plainGet = miss+t1.Sub(t0), get+t2.Sub(t1), plainGet+time.Since(t2)
		}
		n := float64(b.N)
		b.ReportMetric(float64(miss.Nanoseconds())/n, "miss-ns")
		b.ReportMetric(float64(get.Nanoseconds())/n, "get-ns")
		b.ReportMetric(float64(plainGet.Nanoseconds())/n, "plain-get-ns")
		b.ReportMetric(float64(miss)/float64(plainGet), "miss/get")
		b.ReportMetric(float64(get)/float64(plainGet), "get/plain")
	})
}

// TestDoCacheCmdHitAllocations: through the Universal interface too, a hit
// allocates nothing, also with a []byte argument.
func TestDoCacheCmdHitAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c, ctx := newCacheClient(t, nil)
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, benchValue)
	require.NoError(t, err)
	var u Universal = c
	key := []byte(k)
	v, err := u.DoCacheCmd(ctx, time.Minute, Cmd("GET").Bytes(key))
	require.NoError(t, err)
	assert.Equal(t, benchValue, text(t, v))
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := u.DoCacheCmd(ctx, time.Minute, Cmd("GET").Bytes(key)); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}
