package cluster

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

const cacheWait = 10 * time.Second

// cachedText is DoCache's reply as text ("<nil>" for a null).
func cachedText(t *testing.T, ctx context.Context, c *Client, key string) string {
	t.Helper()
	v, err := c.DoCache(ctx, time.Minute, "GET", key)
	require.NoError(t, err)
	if v.IsNull() {
		return "<nil>"
	}
	s, err := v.Text()
	require.NoError(t, err)
	return s
}

// assertNoCallsInFlight checks that every call DoCache counted on a node
// (node.acquire) was released, so a retired node can close. A topology
// refresh that a MOVED started counts its call too, for a moment: a leak is
// a count that never goes back to zero.
func assertNoCallsInFlight(t *testing.T, c *Client) {
	t.Helper()
	inFlight := func() string {
		c.nodes.mu.Lock()
		defer c.nodes.mu.Unlock()
		for addr, n := range c.nodes.all {
			if calls := n.uses.Load() &^ retiredBit; calls != 0 {
				return strconv.FormatInt(calls, 10) + " calls counted in flight on " + addr
			}
		}
		return ""
	}
	var last string
	assert.Eventually(t, func() bool { last = inFlight(); return last == "" }, cacheWait, time.Millisecond)
	assert.Empty(t, last)
}

// TestClusterDoCache: keys over many slots are cached at their masters,
// hits cost no read, and another client's writes reach the cache as
// invalidations from each key's master.
func TestClusterDoCache(t *testing.T) {
	c := newTestClient(t, nil)
	writer := newTestClient(t, &Options{Conn: conn.Options{DisableCache: true}})
	ctx := testContext(t, time.Minute)
	prefix := uniqueKey(t, "k")
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
		_, err := writer.Do(ctx, "SET", keys[i], "v1")
		require.NoError(t, err)
	}
	for _, k := range keys {
		assert.Equal(t, "v1", cachedText(t, ctx, c, k))
	}
	st := c.CacheStats()
	assert.Equal(t, len(keys), st.Entries)
	assert.Equal(t, int64(conn.DefaultCacheMaxBytes), st.MaxBytes, "one bound for every node")
	for _, k := range keys {
		assert.Equal(t, "v1", cachedText(t, ctx, c, k))
	}
	assert.Equal(t, st.Misses, c.CacheStats().Misses, "all hits")

	for _, k := range keys {
		_, err := writer.Do(ctx, "SET", k, "v2")
		require.NoError(t, err)
	}
	for _, k := range keys {
		require.Eventually(t, func() bool { return cachedText(t, ctx, c, k) == "v2" }, cacheWait, 100*time.Microsecond)
	}

	// DoMultiCache: per node, in order; then every one a hit.
	cmds := make([][]string, len(keys))
	for i, k := range keys {
		cmds[i] = []string{"GET", k}
	}
	cmds = append(cmds, []string{"GET", prefix + "missing"})
	vals, err := c.DoMultiCache(ctx, time.Minute, cmds...)
	require.NoError(t, err)
	require.Len(t, vals, len(cmds))
	for i := range keys {
		assert.Equal(t, resp.NewBulkString("v2"), vals[i])
	}
	assert.True(t, vals[len(keys)].IsNull())
	misses := c.CacheStats().Misses
	again, err := c.DoMultiCache(ctx, time.Minute, cmds...)
	require.NoError(t, err)
	assert.Equal(t, vals, again)
	assert.Equal(t, misses, c.CacheStats().Misses, "all hits")

	_, err = c.DoCache(ctx, time.Minute, "MGET", "{a}x", "{b}y")
	assert.ErrorIs(t, err, ErrCrossSlot)
	_, err = c.DoMultiCache(ctx, time.Minute, []string{"GET", "a"}, []string{"SET", "a", "b"})
	assert.ErrorContains(t, err, "not read-only")
	assertNoCallsInFlight(t, c)
}

// TestClusterDoCacheSlotMigration: a slot that moves away drops its entries
// (also those the old owner sends no invalidation for), and a cached read
// that meets MOVED is followed and cached at the new owner.
func TestClusterDoCacheSlotMigration(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, time.Minute)
	tag := "{" + uniqueKey(t, "") + "}"
	slot := int(slots.Slot(tag))
	present, missing, other := tag+"present", tag+"missing", tag+"other"
	_, err := c.Do(ctx, "SET", present, "v")
	require.NoError(t, err)
	_, err = c.Do(ctx, "SET", other, "o")
	require.NoError(t, err)
	assert.Equal(t, "v", cachedText(t, ctx, c, present))
	assert.Equal(t, "<nil>", cachedText(t, ctx, c, missing))
	require.Equal(t, 2, c.CacheStats().Entries)

	cl := redistest.Cluster()
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := otherMaster(t, from)
	moveSlotBack(t, slot, from)
	require.NoError(t, cl.MigrateSlot(ctx, slot, to))
	// MIGRATE deleted present from the old owner: that is an invalidation.
	require.Eventually(t, func() bool { return c.CacheStats().Entries == 1 }, cacheWait, time.Millisecond)

	require.Equal(t, from.Addr, c.table.Load().pick(slot, false).addr, "the client can't know yet")
	assert.Equal(t, "o", cachedText(t, ctx, c, other), "MOVED followed")
	assert.Equal(t, to.Addr, c.table.Load().pick(slot, false).addr)
	// The null cached for missing on the old owner is gone with the slot;
	// other is cached at the new owner.
	assert.Equal(t, 1, c.CacheStats().Entries)
	_, err = to.Do(ctx, "SET", missing, "now")
	require.NoError(t, err)
	assert.Equal(t, "now", cachedText(t, ctx, c, missing))
	misses := c.CacheStats().Misses
	assert.Equal(t, "o", cachedText(t, ctx, c, other))
	assert.Equal(t, misses, c.CacheStats().Misses, "cached at the new owner")
	assertNoCallsInFlight(t, c)
}

// TestClusterDoCacheHitAllocations: routing a hit to its node's cache
// allocates nothing either.
func TestClusterDoCacheHitAllocations(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	key := uniqueKey(t, "k")
	_, err := c.Do(ctx, "SET", key, "0123456789abcdef")
	require.NoError(t, err)
	_, err = c.DoCache(ctx, time.Minute, "GET", key)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := c.DoCache(ctx, time.Minute, "GET", key); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// BenchmarkDoCacheHit measures cluster cache hits over keys in all slots.
func BenchmarkDoCacheHit(b *testing.B) {
	c := newTestClient(b, nil)
	keys := benchKeys(b, c)
	ctx := context.Background()
	for _, k := range keys {
		if _, err := c.DoCache(ctx, time.Hour, "GET", k); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := c.DoCache(ctx, time.Hour, "GET", keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestClusterDoCacheAsk: during a migration, a cached read of a key already
// moved meets ASK and is read through at the target (uncached: the slot is in
// flux); a key still at the source is cached there as usual.
func TestClusterDoCacheAsk(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, time.Minute)
	tag := "{" + uniqueKey(t, "") + "}"
	moving, staying := tag+"moving", tag+"staying"
	slot := int(slots.Slot(tag))
	for _, k := range []string{moving, staying} {
		_, err := c.Do(ctx, "SET", k, k)
		require.NoError(t, err)
	}
	cl := redistest.Cluster()
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	m, err := cl.StartMigration(ctx, slot, otherMaster(t, from))
	require.NoError(t, err)
	moveSlotBack(t, slot, from)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, m.Finish(ctx))
	})
	require.NoError(t, m.MoveKeys(ctx, moving))

	for range 2 {
		assert.Equal(t, moving, cachedText(t, ctx, c, moving))
		assert.Equal(t, staying, cachedText(t, ctx, c, staying))
	}
	assert.Equal(t, 1, c.CacheStats().Entries, "only the key still at the source is cached")
	vals, err := c.DoMultiCache(ctx, time.Minute, []string{"GET", moving}, []string{"GET", staying})
	require.NoError(t, err)
	assert.Equal(t, []resp.Value{resp.NewBulkString(moving), resp.NewBulkString(staying)}, vals)
	assertNoCallsInFlight(t, c)
}

// TestClusterDoCacheCmd: the Command forms through conn.Universal; a hit
// allocates nothing.
func TestClusterDoCacheCmd(t *testing.T) {
	c := newTestClient(t, nil)
	var u conn.Universal = c
	ctx := testContext(t, 10*time.Second)
	key := uniqueKey(t, "k")
	_, err := c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	v, err := u.DoCacheCmd(ctx, time.Minute, conn.Cmd("GET").Bytes([]byte(key)))
	require.NoError(t, err)
	assert.Equal(t, resp.NewBulkString("v"), v)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := u.DoCacheCmd(ctx, time.Minute, conn.Cmd("GET", key)); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	vals, err := u.DoMultiCacheCmd(ctx, time.Minute, conn.Cmd("GET", key), conn.Cmd("STRLEN", key))
	require.NoError(t, err)
	assert.Equal(t, []resp.Value{resp.NewBulkString("v"), resp.NewInt(1)}, vals)
}
