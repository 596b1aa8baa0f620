package conn

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// cacheEvents returns the Cache events recorded so far.
func (r *hookRecorder) cacheEvents() []CacheEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]CacheEvent(nil), r.caches...)
}

// TestHooksCache: Cache reports a DoCache miss and then its hit, with the
// command's name; the server's invalidation after a write; and evictions
// from a small cache. A DoCache's read on the network is reported as a
// Command of its own name, not as the batch it is on the wire.
func TestHooksCache(t *testing.T) {
	var rec hookRecorder
	c, ctx := newCacheClient(t, &Options{Hooks: rec.hooks(), CacheMaxBytes: 4 << 10})
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, "v1")
	require.NoError(t, err)

	assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", k))
	assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", k))
	assert.Equal(t, []CacheEvent{{Kind: CacheMiss, Name: "GET", Entries: 1}, {Kind: CacheHit, Name: "GET", Entries: 1}}, rec.cacheEvents())
	e := rec.lastCommand(t)
	assert.Equal(t, "GET", e.Name, "the tracked read")
	assert.True(t, e.Written)
	rec.mu.Lock()
	assert.Empty(t, rec.pipelines)
	rec.mu.Unlock()

	_, err = redistest.Server().Do(ctx, "SET", k, "v2")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, e := range rec.cacheEvents() {
			if e.Kind == CacheInvalidation {
				return e.Entries == 1
			}
		}
		return false
	}, cacheWait, time.Millisecond, "the invalidation is reported")

	// A 4 KiB cache holds a few 1 KiB values: filling it evicts.
	big := string(make([]byte, 1000))
	for i := range 10 {
		key := clientKey(t, "big"+strconv.Itoa(i))
		_, err := c.Do(ctx, "SET", key, big)
		require.NoError(t, err)
		_, err = c.DoCache(ctx, time.Minute, "GET", key)
		require.NoError(t, err)
	}
	evicted := 0
	for _, e := range rec.cacheEvents() {
		if e.Kind == CacheEviction {
			evicted += e.Entries
		}
	}
	assert.Equal(t, int(c.CacheStats().Evictions), evicted, "every eviction is reported")
	assert.Positive(t, evicted)
}
