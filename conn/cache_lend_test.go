package conn

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// Caching and the lent socket: a Conn that sent tracked reads still lends
// its socket to serial callers, and invalidations are still applied before
// any later reply is handed out and within milliseconds when nobody reads.

// lendLongNow makes c's reader goroutine lend the socket for an hour from
// now on: lendLong, then a call that the reader goroutine reads for (its
// context can end), after which it lends the socket again, for the long
// window. (A lend already under way keeps the window it began with.)
func lendLongNow(t *testing.T, c *Conn) {
	t.Helper()
	lendLong(c)
	_, err := c.Do(testContext(t), "PING")
	require.NoError(t, err)
}

// lentWait bounds how long a test waits for a reader goroutine to lend its
// socket, which it does right after a reply: far more than a loaded machine
// needs, far less than a test's deadline.
const lentWait = 3 * time.Second

// TestDoCacheKeepsLending: after tracked reads, the Client's serial calls,
// cache misses and plain Do alike, still read their own replies, saving the
// hand-over from the reader goroutine. (Before, a Conn that had sent one
// tracked read never lent its socket again.)
func TestDoCacheKeepsLending(t *testing.T) {
	c, tctx := newCacheClient(t, nil)
	ctx := context.Background() // never ends: the caller may read for itself
	k := clientKey(t, "k")
	_, err := c.Do(tctx, "SET", k, "v")
	require.NoError(t, err)
	cn := c.current.Load()
	lendLongNow(t, cn)
	assert.Equal(t, "v", cachedText(t, ctx, c, "GET", k))

	for i := range 5 {
		require.Eventually(t, func() bool { return cn.reading.Load() == readLent }, lentWait, 50*time.Microsecond,
			"the socket is lent again after tracked read %d", i)
		before := cn.ownReads.Load()
		v, err := c.DoCache(ctx, time.Minute, "GET", k+":"+strconv.Itoa(i)) // not cached yet: a miss
		require.NoError(t, err)
		assert.True(t, v.IsNull())
		assert.Equal(t, before+1, cn.ownReads.Load(), "miss %d read its own replies", i)

		require.Eventually(t, func() bool { return cn.reading.Load() == readLent }, lentWait, 50*time.Microsecond)
		v, err = c.Do(ctx, "GET", k)
		require.NoError(t, err)
		assert.Equal(t, "v", text(t, v))
		assert.Equal(t, before+2, cn.ownReads.Load(), "plain GET %d read its own reply", i)
	}
}

// TestDoCacheInvalidationWhileLent: an invalidation that arrives while the
// socket is lent and no caller reads is applied within milliseconds all the
// same: the reader goroutine takes the socket back.
func TestDoCacheInvalidationWhileLent(t *testing.T) {
	c, ctx := newCacheClient(t, nil)
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, "old")
	require.NoError(t, err)
	assert.Equal(t, "old", cachedText(t, context.Background(), c, "GET", k))
	cn := c.current.Load()
	for range 3 {
		require.Eventually(t, func() bool { return cn.reading.Load() == readLent }, lentWait, 20*time.Microsecond)
		before := c.CacheStats().Invalidated
		_, err = redistest.Server().Do(ctx, "SET", k, "new")
		require.NoError(t, err)
		require.Eventually(t, func() bool { return c.CacheStats().Invalidated > before }, cacheWait, 100*time.Microsecond)
		assert.Equal(t, "new", cachedText(t, context.Background(), c, "GET", k))
	}
}

// TestDoCacheOwnReadAppliesPushBehindReply: a caller reading its own reply
// finds an invalidation of the key right behind it, in the same segment; it
// applies it before returning, so the value is answered but not cached, and
// the next DoCache reads again instead of answering the stale value.
func TestDoCacheOwnReadAppliesPushBehindReply(t *testing.T) {
	s := fakeserver.Start(t).Script(steps(
		one(fakeserver.AcceptHello()),
		one(fakeserver.Expect("PING")), one(fakeserver.Reply(resp.NewSimpleString("PONG"))),
		one(fakeserver.Expect("COMMAND", "INFO", "get")), one(getInfo()),
		expectCachedGet("a"), answerCachedGet("va"),
		expectCachedGet("k"),
		one(fakeserver.ReplyRaw([]byte("+OK\r\n$3\r\nold\r\n:-1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"))),
		expectCachedGet("k"), answerCachedGet("new"),
	)...)
	c, err := NewClient(testContext(t), s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background() // never ends: the caller may read for itself
	cn := c.current.Load()
	lendLongNow(t, cn)

	assert.Equal(t, "va", cachedText(t, ctx, c, "GET", "a"))
	require.Eventually(t, func() bool { return cn.reading.Load() == readLent }, lentWait, 50*time.Microsecond)
	before := cn.ownReads.Load()
	assert.Equal(t, "old", cachedText(t, ctx, c, "GET", "k"))
	assert.Equal(t, before+1, cn.ownReads.Load(), "the read of k read its own replies")
	assert.Equal(t, 1, c.CacheStats().Entries, "a is cached, k is not")
	assert.Equal(t, "new", cachedText(t, ctx, c, "GET", "k"))
}
