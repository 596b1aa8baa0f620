package cluster

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/slots"
)

// TestClusterDoCacheCmd: Commands read through the cache on every shard,
// hit the entries DoCache made for the same commands in strings, and see a
// write through invalidation.
func TestClusterDoCacheCmdEveryShard(t *testing.T) {
	c := newTestClient(t, nil)
	writer := newTestClient(t, &Options{Conn: conn.Options{DisableCache: true}})
	ctx := testContext(t, time.Minute)
	var keys []string
	for i := range 6 {
		key := keyForSlot(uniqueKey(t, "k"), i*(slots.NumSlots/6))
		keys = append(keys, key)
		_, err := writer.Do(ctx, "SET", key, "value "+strconv.Itoa(i))
		require.NoError(t, err)
		v, err := c.DoCache(ctx, time.Minute, "GETRANGE", key, "0", "4")
		require.NoError(t, err)
		assert.Equal(t, "value", mustText(t, v))
	}
	misses := c.CacheStats().Misses
	for _, key := range keys {
		v, err := c.DoCacheCmd(ctx, time.Minute, conn.Cmd("GETRANGE").Bytes([]byte(key)).Int(0).Int(4))
		require.NoError(t, err)
		assert.Equal(t, "value", mustText(t, v))
	}
	assert.Equal(t, misses, c.CacheStats().Misses, "every Command hit DoCache's entry")

	cmds := make([]conn.Command, len(keys))
	for i, key := range keys {
		cmds[i] = conn.Cmd("GETRANGE", key).Int(-1).Int(-1)
	}
	vs, err := c.DoMultiCacheCmd(ctx, time.Minute, cmds...)
	require.NoError(t, err)
	for i := range keys {
		assert.Equal(t, strconv.Itoa(i), mustText(t, vs[i]))
	}

	_, err = writer.Do(ctx, "SET", keys[0], "fresh")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		v, err := c.DoCacheCmd(ctx, time.Minute, conn.Cmd("GETRANGE", keys[0]).Int(0).Int(4))
		s, _ := v.Text()
		return err == nil && s == "fresh"
	}, 5*time.Second, time.Millisecond, "the write invalidated the entry")

	_, err = c.DoCacheCmd(ctx, time.Minute, conn.Cmd("MGET", keyForSlot("a", 1), keyForSlot("b", 2)))
	assert.ErrorIs(t, err, ErrCrossSlot)
}

// TestClusterDoCacheCmdAllocations: a hit through conn.Universal allocates
// nothing, number arguments included.
func TestClusterDoCacheCmdAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c := newTestClient(t, nil)
	u := hideType[conn.Universal](c)
	ctx := context.Background()
	key := uniqueKey(t, "k")
	_, err := c.Do(ctx, "SET", key, "hello world")
	require.NoError(t, err)
	for name, cmd := range map[string]conn.Command{
		"GET":                   conn.Cmd("GET", key),
		"GETRANGE with numbers": conn.Cmd("GETRANGE", key).Int(0).Int(4),
	} {
		_, err := u.DoCacheCmd(ctx, time.Minute, cmd)
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := u.DoCacheCmd(ctx, time.Minute, cmd); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "a %s hit", name)
	}
}
