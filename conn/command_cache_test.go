package conn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDoCacheCmd: a Command finds the entry DoCache made for the same
// command in strings, and a []byte argument changed after a miss doesn't
// change what the cache holds.
func TestDoCacheCmdSharesEntries(t *testing.T) {
	cache := NewCache(1 << 20)
	c, ctx := newCacheClient(t, &Options{Cache: cache})
	key := freshKey(t, "k")
	_, err := c.Do(ctx, "SET", key, "hello world")
	require.NoError(t, err)

	v, err := c.DoCache(ctx, time.Minute, "GETRANGE", key, "0", "4")
	require.NoError(t, err)
	assert.Equal(t, "hello", text(t, v))
	misses := cache.Stats().Misses
	v, err = c.DoCacheCmd(ctx, time.Minute, Cmd("GETRANGE", key).Int(0).Int(4))
	require.NoError(t, err)
	assert.Equal(t, "hello", text(t, v))
	assert.Equal(t, misses, cache.Stats().Misses, "the Command hit DoCache's entry")

	other := key[:len(key)-1] + "_" // as long as key: the buffer below is reused
	_, err = c.Do(ctx, "SET", other, "other value")
	require.NoError(t, err)
	name := []byte(key)
	v, err = c.DoCacheCmd(ctx, time.Minute, Cmd("GET").Bytes(name))
	require.NoError(t, err)
	assert.Equal(t, "hello world", text(t, v))
	copy(name, other) // the same length: the caller reuses its buffer
	v, err = c.DoCacheCmd(ctx, time.Minute, Cmd("GET").Bytes(name))
	require.NoError(t, err)
	assert.Equal(t, "other value", text(t, v), "the cache kept a copy of the first name, not the caller's bytes")
	v, err = c.DoCacheCmd(ctx, time.Minute, Cmd("GET", key))
	require.NoError(t, err)
	assert.Equal(t, "hello world", text(t, v))

	vs, err := c.DoMultiCacheCmd(ctx, time.Minute, Cmd("GET", key), Cmd("GETRANGE", key).Int(6).Int(-1))
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.Equal(t, "hello world", text(t, vs[0]))
	assert.Equal(t, "world", text(t, vs[1]))
	misses = cache.Stats().Misses
	vs, err = c.DoMultiCacheCmd(ctx, time.Minute, Cmd("GET", key), Cmd("GETRANGE", key).Int(6).Int(-1))
	require.NoError(t, err)
	assert.Equal(t, "world", text(t, vs[1]))
	assert.Equal(t, misses, cache.Stats().Misses, "every command hit")

	_, err = c.DoCacheCmd(ctx, 0, Cmd("GET", key))
	assert.ErrorIs(t, err, errCacheTTL)
	vs, err = c.DoMultiCacheCmd(ctx, time.Minute)
	assert.NoError(t, err)
	assert.Nil(t, vs)
}

// TestDoCacheCmdAllocations: a hit through Universal allocates nothing,
// number arguments included, and a batch of hits only its reply slice.
func TestDoCacheCmdAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c, ctx := newCacheClient(t, nil)
	u := hideType[Universal](c)
	key := freshKey(t, "k")
	_, err := c.Do(ctx, "SET", key, "hello world")
	require.NoError(t, err)
	get, rng := Cmd("GET", key), Cmd("GETRANGE", key).Int(0).Int(4)
	_, err = u.DoMultiCacheCmd(ctx, time.Minute, get, rng)
	require.NoError(t, err)
	for name, cmd := range map[string]Command{"GET": get, "GETRANGE with numbers": rng} {
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := u.DoCacheCmd(ctx, time.Minute, cmd); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "a %s hit", name)
	}
	cmds := []Command{get, rng}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := u.DoMultiCacheCmd(ctx, time.Minute, cmds...); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 1.0, "a batch of hits")
}
