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

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// cacheWait bounds how long a test waits for an invalidation to arrive: it
// usually takes well under a millisecond; the bound is for a loaded machine.
const cacheWait = 5 * time.Second

// newCacheClient returns a Client of the package's server with opts (nil:
// the defaults, caching on).
func newCacheClient(t *testing.T, opts *Options) (*Client, context.Context) {
	t.Helper()
	ctx := testContext(t)
	c, err := NewClient(ctx, redistest.Server().Addr, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, ctx
}

// cachedText is DoCache's reply to args as text ("<nil>" for a null).
func cachedText(t *testing.T, ctx context.Context, c *Client, args ...string) string {
	t.Helper()
	v, err := c.DoCache(ctx, time.Minute, args...)
	require.NoError(t, err)
	if v.IsNull() {
		return "<nil>"
	}
	if v.Kind() == resp.Integer {
		n, _ := v.Int()
		return strconv.FormatInt(n, 10)
	}
	return text(t, v)
}

// waitCached polls DoCache until it answers want and returns how long that
// took; it fails the test after cacheWait.
func waitCached(t *testing.T, ctx context.Context, c *Client, want string, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := cachedText(t, ctx, c, args...)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > cacheWait {
			t.Fatalf("DoCache %v still answers %q after %v, want %q", args, got, cacheWait, want)
		}
		time.Sleep(100 * time.Microsecond) // a poll interval, not a wait for an event we could observe
	}
}

// commandCalls returns the server's call counts per command (INFO
// commandstats), by lower-case name such as "get" or "client|caching".
func commandCalls(t *testing.T, n *redistest.Node) map[string]int {
	t.Helper()
	info, err := n.Info(testContext(t), "commandstats")
	require.NoError(t, err)
	calls := map[string]int{}
	for k, v := range info {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		if !ok {
			continue
		}
		for f := range strings.SplitSeq(v, ",") {
			if n, ok := strings.CutPrefix(f, "calls="); ok {
				calls[name], _ = strconv.Atoi(n)
			}
		}
	}
	return calls
}

func TestDoCacheHitsAfterOneRead(t *testing.T) {
	c, ctx := newCacheClient(t, nil)
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, "v1")
	require.NoError(t, err)

	assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", k))
	misses := c.CacheStats().Misses
	for range 100 {
		assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", k))
	}
	assert.Equal(t, misses, c.CacheStats().Misses, "every later DoCache is a hit")
	assert.Equal(t, 1, c.CacheStats().Entries)
	assert.Equal(t, int64(DefaultCacheMaxBytes), c.CacheStats().MaxBytes)
}

// TestDoCacheInvalidatedByOtherClient: another client's SET, DEL, EXPIRE and
// FLUSHALL each reach the cache as an invalidation within milliseconds.
func TestDoCacheInvalidatedByOtherClient(t *testing.T) {
	c, ctx := newCacheClient(t, nil)
	other := newTestConn(t)
	k := clientKey(t, "k")
	do := func(args ...string) {
		t.Helper()
		_, err := other.Do(ctx, args...)
		require.NoError(t, err)
	}
	do("SET", k, "v1")
	assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", k))

	steps := []struct {
		name  string
		write []string
		args  []string
		want  string
	}{
		{"SET", []string{"SET", k, "v2"}, []string{"GET", k}, "v2"},
		{"DEL", []string{"DEL", k}, []string{"GET", k}, "<nil>"},
		{"SET again", []string{"SET", k, "v3"}, []string{"GET", k}, "v3"},
		{"EXPIRE", []string{"EXPIRE", k, "100"}, []string{"PTTL", k}, ""}, // checked below
		{"FLUSHALL", []string{"FLUSHALL"}, []string{"EXISTS", k}, "0"},
	}
	for _, s := range steps {
		if s.name == "EXPIRE" {
			// EXPIRE changes no value a read returns; its invalidation
			// shows as an entry dropped.
			before := c.CacheStats().Invalidated
			do(s.write...)
			require.Eventually(t, func() bool { return c.CacheStats().Invalidated > before }, cacheWait, 100*time.Microsecond)
			continue
		}
		if s.name == "FLUSHALL" {
			assert.Equal(t, "1", cachedText(t, ctx, c, "EXISTS", k))
		}
		do(s.write...)
		took := waitCached(t, ctx, c, s.want, s.args...)
		t.Logf("%s seen after %v", s.name, took)
	}
}

// newTestConn is a plain Conn for writes in cache tests.
func newTestConn(t *testing.T) *Conn {
	t.Helper()
	return dialTest(t, nil)
}

// TestDoCacheKilledConnection: CLIENT KILL of the caching connection while
// another client writes; once the Client has noticed the loss, the next
// DoCache returns the new value, never the one cached on the lost Conn.
func TestDoCacheKilledConnection(t *testing.T) {
	c, ctx := newCacheClient(t, nil)
	other := newTestConn(t)
	k := clientKey(t, "k")
	_, err := other.Do(ctx, "SET", k, "v1")
	require.NoError(t, err)
	assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", k))

	old := c.current.Load()
	id := clientID(t, old)
	_, err = other.DoMulti(ctx, []string{"CLIENT", "KILL", "ID", id}, []string{"SET", k, "v2"})
	require.NoError(t, err)
	select {
	case <-old.Done():
	case <-ctx.Done():
		t.Fatal("the killed connection was never noticed")
	}
	assert.Equal(t, "v2", cachedText(t, ctx, c, "GET", k), "the first DoCache after the loss")
}

// TestDoCacheServerTTL: a key set with PX is not served after it expired,
// although the server sends no invalidation (active expiry is off).
func TestDoCacheServerTTL(t *testing.T) {
	n := redistest.NewNode(t, redistest.NodeOptions{Config: []string{"enable-debug-command yes"}})
	ctx := testContext(t)
	_, err := n.Do(ctx, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	require.NoError(t, err)
	c, err := NewClient(ctx, n.Addr, nil)
	require.NoError(t, err)
	defer c.Close()

	_, err = c.Do(ctx, "SET", "k", "v", "PX", "200")
	require.NoError(t, err)
	set := time.Now()
	assert.Equal(t, "v", cachedText(t, ctx, c, "GET", "k"))
	for {
		asked := time.Since(set) // the key expired 200 ms after set at the latest
		got := cachedText(t, ctx, c, "GET", "k")
		if got == "<nil>" {
			break
		}
		// The server itself keeps a key up to 1 ms past its PX: it counts
		// whole milliseconds and expires a key once now > its expiry.
		require.Less(t, asked, 201*time.Millisecond, "served %q after the key expired", got)
		time.Sleep(time.Millisecond) // polling the clock, which is what expires the entry
	}
	assert.Greater(t, time.Since(set), 150*time.Millisecond, "the entry lived for most of its server TTL")

	// And the caller's ttl bounds an entry whose key has no expiry.
	_, err = c.Do(ctx, "SET", "k2", "v")
	require.NoError(t, err)
	v, err := c.DoCache(ctx, 50*time.Millisecond, "GET", "k2")
	require.NoError(t, err)
	assert.Equal(t, "v", text(t, v))
	misses := c.CacheStats().Misses
	require.Eventually(t, func() bool {
		_, err := c.DoCache(ctx, 50*time.Millisecond, "GET", "k2")
		return err == nil && c.CacheStats().Misses > misses
	}, cacheWait, time.Millisecond)
}

// TestDoCacheSingleflight: 100 goroutines missing one entry make one read.
func TestDoCacheSingleflight(t *testing.T) {
	n := redistest.NewNode(t, redistest.NodeOptions{})
	ctx := testContext(t)
	c, err := NewClient(ctx, n.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(ctx, "SET", "k", "v")
	require.NoError(t, err)
	_, err = c.DoCache(ctx, time.Minute, "GET", "other") // learns GET's keys
	require.NoError(t, err)
	before := commandCalls(t, n)["get"]

	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 100 {
		wg.Go(func() {
			<-start
			v, err := c.DoCache(ctx, time.Minute, "GET", "k")
			if assert.NoError(t, err) {
				assert.Equal(t, "v", text(t, v))
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, 1, commandCalls(t, n)["get"]-before, "GETs the server saw")
}

// TestDoCacheNoTransactions: cache misses cost the server no MULTI/EXEC.
func TestDoCacheNoTransactions(t *testing.T) {
	n := redistest.NewNode(t, redistest.NodeOptions{})
	ctx := testContext(t)
	c, err := NewClient(ctx, n.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	const misses = 10000
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Go(func() {
			for i := g; i < misses; i += 10 {
				if _, err := c.DoCache(ctx, time.Minute, "GET", "k"+strconv.Itoa(i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	calls := commandCalls(t, n)
	assert.Zero(t, calls["multi"])
	assert.Zero(t, calls["exec"])
	assert.Equal(t, misses, calls["get"])
	assert.Equal(t, misses, calls["client|caching"])
	assert.Equal(t, misses, calls["pttl"])
}

// TestDoCacheRefusesWhatItCannotCache: errors, nothing sent uncached.
func TestDoCacheRefusesWhatItCannotCache(t *testing.T) {
	c, ctx := newCacheClient(t, nil)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", "k", "v"}, "not read-only"},
		{[]string{"SRANDMEMBER", "k"}, "not deterministic"},
		{[]string{"SINTERCARD", "1", "k"}, "not at fixed positions"},
		{[]string{"BLPOP", "k", "0"}, "not read-only"},
		{[]string{"XREAD", "STREAMS", "k", "0"}, "may block"},
		{[]string{"DBSIZE"}, "reads no key"},
		{[]string{"NOSUCH"}, "doesn't know it"},
		{[]string{"GET"}, "names no key"},
	} {
		_, err := c.DoCache(ctx, time.Minute, tt.args...)
		require.Error(t, err, "%v", tt.args)
		assert.Contains(t, err.Error(), tt.want, "%v", tt.args)
		assert.True(t, strings.HasPrefix(err.Error(), "conn: "), err.Error())
	}
	_, err := c.DoCache(ctx, 0, "GET", "k")
	assert.ErrorIs(t, err, errCacheTTL)
	_, err = c.DoCache(ctx, time.Minute)
	assert.ErrorIs(t, err, errEmptyCommand)
	assert.Zero(t, c.CacheStats().Entries)
}

func TestDoCacheDisabledReadsThrough(t *testing.T) {
	c, ctx := newCacheClient(t, &Options{DisableCache: true})
	k := clientKey(t, "k")
	_, err := c.Do(ctx, "SET", k, "v1")
	require.NoError(t, err)
	assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", k))
	_, err = c.Do(ctx, "SET", k, "v2")
	require.NoError(t, err)
	assert.Equal(t, "v2", cachedText(t, ctx, c, "GET", k), "nothing cached: no invalidation needed")
	_, err = c.DoCache(ctx, time.Minute, "SET", k, "v")
	assert.ErrorContains(t, err, "not read-only", "the same rules with caching off")
	assert.Zero(t, c.CacheStats())
}

// TestDoCacheSharedCache: Clients given one Cache share its bound, never
// each other's entries, and a Client's Close drops its own.
func TestDoCacheSharedCache(t *testing.T) {
	shared := NewCache(1 << 20)
	a, ctx := newCacheClient(t, &Options{Cache: shared})
	b, err := NewClient(ctx, redistest.Server().Addr, &Options{Cache: shared, DB: 1})
	require.NoError(t, err)
	k := clientKey(t, "k")
	_, err = a.Do(ctx, "SET", k, "db0")
	require.NoError(t, err)
	_, err = b.Do(ctx, "SET", k, "db1")
	require.NoError(t, err)
	assert.Equal(t, "db0", cachedText(t, ctx, a, "GET", k))
	assert.Equal(t, "db1", cachedText(t, ctx, b, "GET", k), "the same command, another Client's entry")
	assert.Equal(t, 2, shared.Stats().Entries)
	assert.Equal(t, shared.Stats(), a.CacheStats())
	require.NoError(t, b.Close())
	assert.Equal(t, 1, shared.Stats().Entries, "Close dropped b's entry")
	assert.Equal(t, "db0", cachedText(t, ctx, a, "GET", k))
}

// TestDoCacheForgetsUnknownCommands: what COMMAND INFO says is remembered
// only for commands the server knows, so made-up names can't grow the table.
func TestDoCacheForgetsUnknownCommands(t *testing.T) {
	c, ctx := newCacheClient(t, nil)
	for i := range 100 {
		_, err := c.DoCache(ctx, time.Minute, "NOSUCH"+strconv.Itoa(i), "k")
		require.ErrorContains(t, err, "doesn't know it")
	}
	_, err := c.DoCache(ctx, time.Minute, "GET", "k")
	require.NoError(t, err)
	known := 0
	c.cache.commands.Range(func(any, any) bool { known++; return true })
	assert.Equal(t, 1, known)
}

// TestDoCacheCmd: the Command forms share DoCache's entries, and a reused
// []byte argument doesn't change what was cached.
func TestDoCacheCmd(t *testing.T) {
	c, ctx := newCacheClient(t, nil)
	var u Universal = c
	a, b := clientKey(t, "a"), clientKey(t, "b")
	_, err := c.Do(ctx, "MSET", a, "1", b, "2")
	require.NoError(t, err)
	key := []byte(a)
	v, err := u.DoCacheCmd(ctx, time.Minute, Cmd("GET").Bytes(key))
	require.NoError(t, err)
	assert.Equal(t, "1", text(t, v))
	copy(key, b) // the same length: now the bytes spell b
	assert.Equal(t, "1", cachedText(t, ctx, c, "GET", a), "a hit on the entry DoCacheCmd stored")
	v, err = u.DoCacheCmd(ctx, time.Minute, Cmd("GET").Bytes(key))
	require.NoError(t, err)
	assert.Equal(t, "2", text(t, v))

	vals, err := u.DoMultiCacheCmd(ctx, time.Minute, Cmd("GET", a), Cmd("MGET", a, b), Cmd("STRLEN").Arg(b))
	require.NoError(t, err)
	assert.Equal(t, []resp.Value{resp.NewBulkString("1"),
		resp.NewArray(resp.NewBulkString("1"), resp.NewBulkString("2")), resp.NewInt(1)}, vals)
	_, err = u.DoCacheCmd(ctx, time.Minute, Cmd("INCR", a))
	assert.ErrorContains(t, err, "not read-only")
}
