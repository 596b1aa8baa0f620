package conn

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// TestDoCacheStress: writers INCR counters through plain Do on their own
// connection while readers read them through DoCache. No reader ever sees a
// counter go back, and every reader sees each counter's final value within
// 100 ms of the last write (the invalidation, not the minute's TTL, ended
// the stale entry). Under the race detector the bound is a second: on a
// loaded 2-core machine a reader goroutine there was once seen to wait
// 174 ms for a core. make test runs it both ways.
func TestDoCacheStress(t *testing.T) {
	c, ctx := newCacheClient(t, nil)
	const (
		counters = 4
		writers  = 4
		readers  = 8
		incrs    = 300 // per writer and counter
	)
	key := func(i int) string { return clientKey(t, "counter"+strconv.Itoa(i)) }
	for i := range counters {
		_, err := c.Do(ctx, "SET", key(i), "0")
		require.NoError(t, err)
	}
	writer := newTestConn(t)

	var lastWrite atomic.Int64 // UnixNano of the last INCR's reply
	writing := make(chan struct{})
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for n := range incrs * counters {
				if _, err := writer.Do(ctx, "INCR", key(n%counters)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	go func() { wg.Wait(); lastWrite.Store(time.Now().UnixNano()); close(writing) }()

	const final = writers * incrs
	var rg sync.WaitGroup
	for r := range readers {
		rg.Go(func() {
			seen := make([]int64, counters)
			finalAt := make([]time.Time, counters)
			for iter, done := r, 0; done < counters; iter++ {
				i := iter % counters
				v, err := c.DoCache(ctx, time.Minute, "GET", key(i))
				if !assert.NoError(t, err) {
					return
				}
				n, err := v.Int()
				if !assert.NoError(t, err) {
					return
				}
				if n < seen[i] {
					t.Errorf("reader %d saw %s go back from %d to %d", r, key(i), seen[i], n)
					return
				}
				seen[i] = n
				if n == final && finalAt[i].IsZero() {
					finalAt[i] = time.Now()
					done++
				}
				// Cache hits never block, so eight readers in a tight
				// loop would keep the two cores from the Conn's reader
				// goroutine, which applies the invalidations: yield, as
				// any real caller between reads does.
				runtime.Gosched()
				if lw := lastWrite.Load(); lw != 0 && time.Since(time.Unix(0, lw)) > cacheWait {
					t.Errorf("reader %d: %v after the last write, still %v", r, cacheWait, seen)
					return
				}
			}
			<-writing
			last := time.Unix(0, lastWrite.Load())
			bound := 100 * time.Millisecond
			if raceEnabled {
				bound = time.Second
			}
			for i, at := range finalAt {
				assert.Less(t, at.Sub(last), bound, "reader %d saw %s's final value %v after the last write", r, key(i), at.Sub(last))
			}
		})
	}
	rg.Wait()
}

// TestDoCacheSizeBound: reading 100 MiB of distinct values through a cache
// bounded at 8 MiB keeps the cache within the bound, evicting and counting,
// and the heap holds about the bound, not the values read.
func TestDoCacheSizeBound(t *testing.T) {
	const bound = 8 << 20
	n := redistest.NewNode(t, redistest.NodeOptions{})
	ctx := testContext(t)
	c, err := NewClient(ctx, n.Addr, &Options{CacheMaxBytes: bound})
	require.NoError(t, err)
	defer c.Close()

	value := string(make([]byte, 4<<10))
	const keys = 100 << 20 / (4 << 10)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const batch = 128
	for i := 0; i < keys; i += batch {
		var sets, gets [][]string
		for j := i; j < i+batch; j++ {
			sets = append(sets, []string{"SET", "k" + strconv.Itoa(j), value})
			gets = append(gets, []string{"GET", "k" + strconv.Itoa(j)})
		}
		_, err := c.DoMulti(ctx, sets...)
		require.NoError(t, err)
		vals, err := c.DoMultiCache(ctx, time.Minute, gets...)
		require.NoError(t, err)
		require.Len(t, vals, batch)
		for _, v := range vals {
			require.Len(t, text(t, v), len(value))
		}
		st := c.CacheStats()
		require.LessOrEqual(t, st.Bytes, int64(bound))
	}
	st := c.CacheStats()
	assert.Greater(t, st.Evictions, uint64(keys*3/4))
	assert.Greater(t, st.Bytes, int64(bound/2))
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, grown, int64(2*bound), "the heap grew by %d bytes", grown)
	t.Logf("after %d values of 4 KiB: %+v; heap grew by %d bytes", keys, st, grown)
}

// TestDoMultiCache: hits answered locally, every miss in one write, replies
// in order; invalidations drop what DoMultiCache cached.
func TestDoMultiCache(t *testing.T) {
	n := redistest.NewNode(t, redistest.NodeOptions{})
	ctx := testContext(t)
	c, err := NewClient(ctx, n.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(ctx, "MSET", "a", "1", "b", "2", "c", "3")
	require.NoError(t, err)
	_, err = c.Do(ctx, "HSET", "h", "f", "v")
	require.NoError(t, err)
	assert.Equal(t, "1", cachedText(t, ctx, c, "GET", "a"))

	for _, name := range []string{"MGET", "HGETALL", "LLEN"} {
		_, err := c.cacheKeys(ctx, []string{name, "x"}) // COMMAND INFO, once per name
		require.NoError(t, err)
	}
	cn := c.current.Load()
	w0 := cn.writes.Load()
	before := commandCalls(t, n)
	vals, err := c.DoMultiCache(ctx, time.Minute,
		[]string{"GET", "a"}, []string{"GET", "b"}, []string{"MGET", "a", "c"},
		[]string{"HGETALL", "h"}, []string{"GET", "b"}, []string{"LLEN", "h"})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), cn.writes.Load()-w0, "all misses in one write")
	after := commandCalls(t, n)
	assert.Equal(t, 1, after["get"]-before["get"], "a was a hit; b read once")
	require.Len(t, vals, 6)
	assert.Equal(t, "1", text(t, vals[0]))
	assert.Equal(t, "2", text(t, vals[1]))
	assert.Equal(t, resp.NewArray(resp.NewBulkString("1"), resp.NewBulkString("3")), vals[2])
	assert.Equal(t, resp.NewMap(resp.NewBulkString("f"), resp.NewBulkString("v")), vals[3])
	assert.Equal(t, "2", text(t, vals[4]))
	assert.Error(t, vals[5].Err(), "LLEN of a hash: WRONGTYPE stays in the values")

	w1 := cn.writes.Load()
	again, err := c.DoMultiCache(ctx, time.Minute, []string{"GET", "b"}, []string{"MGET", "a", "c"}, []string{"HGETALL", "h"})
	require.NoError(t, err)
	assert.Equal(t, w1, cn.writes.Load(), "all hits: nothing written")
	assert.Equal(t, []resp.Value{vals[1], vals[2], vals[3]}, again)

	_, err = n.Do(ctx, "SET", "c", "30")
	require.NoError(t, err)
	waitCached(t, ctx, c, "30", "GET", "c")
	vals, err = c.DoMultiCache(ctx, time.Minute, []string{"MGET", "a", "c"})
	require.NoError(t, err)
	assert.Equal(t, resp.NewArray(resp.NewBulkString("1"), resp.NewBulkString("30")), vals[0], "MGET a c dropped with c")

	_, err = c.DoMultiCache(ctx, time.Minute, []string{"GET", "a"}, []string{"SET", "a", "2"})
	assert.ErrorContains(t, err, "not read-only")
}
