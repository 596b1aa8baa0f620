package conn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// Fake-server tests of the orderings a real server makes rare.

// getInfo is Redis 7's answer to COMMAND INFO get.
func getInfo() fakeserver.Step {
	b := resp.NewBulkString
	return fakeserver.Reply(resp.NewArray(resp.NewArray(
		b("get"), resp.NewInt(2), resp.NewSet(resp.NewSimpleString("readonly"), resp.NewSimpleString("fast")),
		resp.NewInt(1), resp.NewInt(1), resp.NewInt(1),
		resp.NewSet(b("@read"), b("@string"), b("@fast")), resp.NewArray(), resp.NewArray(), resp.NewArray(),
	)))
}

// expectCachedGet reads what a cached GET k writes.
func expectCachedGet(k string) []fakeserver.Step {
	return []fakeserver.Step{
		fakeserver.Expect("CLIENT", "CACHING", "YES"),
		fakeserver.Expect("GET", k),
		fakeserver.Expect("PTTL", k),
	}
}

// answerCachedGet answers a cached GET with v and a key without expiry.
func answerCachedGet(v string) []fakeserver.Step {
	return []fakeserver.Step{
		fakeserver.Reply(resp.NewSimpleString("OK")),
		fakeserver.Reply(resp.NewBulkString(v)),
		fakeserver.Reply(resp.NewInt(-1)),
	}
}

func steps(groups ...[]fakeserver.Step) []fakeserver.Step {
	var all []fakeserver.Step
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

func one(s fakeserver.Step) []fakeserver.Step { return []fakeserver.Step{s} }

// TestDoCacheInvalidationBeforeReply: an invalidation of k that arrives
// between the write of a cached GET k and its reply keeps that reply from
// being cached; the next DoCache reads again.
func TestDoCacheInvalidationBeforeReply(t *testing.T) {
	invalidate := fakeserver.Push(resp.NewBulkString("invalidate"), resp.NewArray(resp.NewBulkString("k")))
	s := fakeserver.Start(t).Script(steps(
		one(fakeserver.AcceptHello()),
		one(fakeserver.Expect("COMMAND", "INFO", "get")), one(getInfo()),
		expectCachedGet("k"),
		one(fakeserver.Reply(resp.NewSimpleString("OK"))),
		one(invalidate),
		one(fakeserver.Reply(resp.NewBulkString("old"))),
		one(fakeserver.Reply(resp.NewInt(-1))),
		expectCachedGet("k"), answerCachedGet("new"),
	)...)
	ctx := testContext(t)
	c, err := NewClient(ctx, s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()

	assert.Equal(t, "old", cachedText(t, ctx, c, "GET", "k"), "the reply is answered")
	assert.Zero(t, c.CacheStats().Entries, "but not cached")
	assert.Equal(t, "new", cachedText(t, ctx, c, "GET", "k"))
	assert.Equal(t, "new", cachedText(t, ctx, c, "GET", "k"), "a hit: the script has no third read")
}

// TestDoCacheInvalidationAfterReply: an invalidation right behind the reply
// (and its PTTL) drops the entry before the next reply is handed out.
func TestDoCacheInvalidationAfterReply(t *testing.T) {
	s := fakeserver.Start(t).Script(steps(
		one(fakeserver.AcceptHello()),
		one(fakeserver.Expect("COMMAND", "INFO", "get")), one(getInfo()),
		expectCachedGet("k"), answerCachedGet("old"),
		one(fakeserver.Push(resp.NewBulkString("invalidate"), resp.NewArray(resp.NewBulkString("k")))),
		one(fakeserver.Expect("PING")), one(fakeserver.Reply(resp.NewSimpleString("PONG"))),
		expectCachedGet("k"), answerCachedGet("new"),
	)...)
	ctx := testContext(t)
	c, err := NewClient(ctx, s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()

	assert.Equal(t, "old", cachedText(t, ctx, c, "GET", "k"))
	_, err = c.Do(ctx, "PING") // its reply comes after the push
	require.NoError(t, err)
	assert.Equal(t, "new", cachedText(t, ctx, c, "GET", "k"))
}

// TestDoCacheNullInvalidation: ["invalidate", null] (FLUSHALL) drops every
// entry of the connection.
func TestDoCacheNullInvalidation(t *testing.T) {
	release := make(chan struct{})
	s := fakeserver.Start(t).Script(steps(
		one(fakeserver.AcceptHello()),
		one(fakeserver.Expect("COMMAND", "INFO", "get")), one(getInfo()),
		expectCachedGet("a"), answerCachedGet("va"),
		expectCachedGet("b"), answerCachedGet("vb"),
		one(fakeserver.Stall(release)),
		one(fakeserver.Push(resp.NewBulkString("invalidate"), resp.NewNull())),
		one(fakeserver.Expect("PING")), one(fakeserver.Reply(resp.NewSimpleString("PONG"))),
		expectCachedGet("a"), answerCachedGet("va2"),
	)...)
	ctx := testContext(t)
	c, err := NewClient(ctx, s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()

	assert.Equal(t, "va", cachedText(t, ctx, c, "GET", "a"))
	assert.Equal(t, "vb", cachedText(t, ctx, c, "GET", "b"))
	assert.Equal(t, 2, c.CacheStats().Entries)
	close(release)
	_, err = c.Do(ctx, "PING")
	require.NoError(t, err)
	assert.Equal(t, 0, c.CacheStats().Entries)
	assert.Equal(t, "va2", cachedText(t, ctx, c, "GET", "a"))
}

// TestDoCacheConnectionLost: an entry read on a connection that was lost is
// never answered, and a read cut off mid-reply caches nothing; the Client's
// next connection reads afresh.
func TestDoCacheConnectionLost(t *testing.T) {
	s := fakeserver.Start(t).Script(steps(
		one(fakeserver.AcceptHello()),
		one(fakeserver.Expect("COMMAND", "INFO", "get")), one(getInfo()),
		expectCachedGet("k"), answerCachedGet("v1"),
		one(fakeserver.Close()),
	)...).Script(steps(
		one(fakeserver.AcceptHello()),
		expectCachedGet("k"),
		one(fakeserver.Reply(resp.NewSimpleString("OK"))),
		one(fakeserver.DropMidReply(resp.NewBulkString("cut-off"))),
	)...).Script(steps(
		one(fakeserver.AcceptHello()),
		expectCachedGet("k"), answerCachedGet("v3"),
	)...)
	ctx := testContext(t)
	c, err := NewClient(ctx, s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()

	first := c.current.Load()
	assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", "k"))
	<-first.Done()
	// The lost Conn's entry is not answered: this is a miss, on the
	// second connection, which is cut off mid-reply.
	_, err = c.DoCache(ctx, time.Minute, "GET", "k")
	require.ErrorIs(t, err, ErrClosed)
	assert.Zero(t, c.CacheStats().Entries)
	assert.Equal(t, "v3", cachedText(t, ctx, c, "GET", "k"))
	assert.Equal(t, "v3", cachedText(t, ctx, c, "GET", "k"), "a hit: the third script has no second read")
	assert.Equal(t, 3, s.Accepted())
}

// TestDoCacheRESP2ReadsThrough: a server without RESP3 can't push
// invalidations, so DoCache sends the plain command every time.
func TestDoCacheRESP2ReadsThrough(t *testing.T) {
	s := fakeserver.Start(t).Script(
		fakeserver.RefuseHello(),
		fakeserver.Expect("COMMAND", "INFO", "get"), getInfo(),
		fakeserver.Expect("GET", "k"), fakeserver.Reply(resp.NewBulkString("v1")),
		fakeserver.Expect("GET", "k"), fakeserver.Reply(resp.NewBulkString("v2")),
	)
	ctx := testContext(t)
	c, err := NewClient(ctx, s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, 2, c.current.Load().Protocol())

	assert.Equal(t, "v1", cachedText(t, ctx, c, "GET", "k"))
	assert.Equal(t, "v2", cachedText(t, ctx, c, "GET", "k"))
	assert.Zero(t, c.CacheStats().Entries)
}
