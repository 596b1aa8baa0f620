package cache

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// testOwner is a connection that tests open and close by hand.
type testOwner struct{ closed atomic.Bool }

func (o *testOwner) Open() bool { return !o.closed.Load() }

const never = int64(1) << 62

// fill reads args (keys: args[1:]) into s as one leader would.
func fill(t *testing.T, s *Store, o Owner, v resp.Value, args ...string) {
	t.Helper()
	f, leader := s.Begin(1, args, args[1:], o)
	require.True(t, leader)
	s.Finish(f, v, never, true)
}

func lookup(s *Store, args ...string) (string, bool) {
	v, ok := s.Lookup(1, args)
	if !ok {
		return "", false
	}
	txt, _ := v.Text()
	return txt, true
}

func TestStoreLookupAfterFill(t *testing.T) {
	s := New(1 << 20)
	o := &testOwner{}
	fill(t, s, o, resp.NewBulkString("v"), "GET", "k")
	got, ok := lookup(s, "GET", "k")
	assert.True(t, ok)
	assert.Equal(t, "v", got)
	_, ok = s.Lookup(2, []string{"GET", "k"})
	assert.False(t, ok, "another namespace")
	_, ok = lookup(s, "GET", "k2")
	assert.False(t, ok)
	_, ok = lookup(s, "GET", "k", "x")
	assert.False(t, ok, "the whole command is the key")
}

func TestStoreInvalidateDropsEveryEntryThatReadTheKey(t *testing.T) {
	s := New(1 << 20)
	o := &testOwner{}
	fill(t, s, o, resp.NewBulkString("v"), "GET", "a")
	fill(t, s, o, resp.NewArray(), "MGET", "a", "b")
	fill(t, s, o, resp.NewBulkString("w"), "GET", "b")
	s.Invalidate("a")
	_, ok := lookup(s, "GET", "a")
	assert.False(t, ok)
	_, ok = s.Lookup(1, []string{"MGET", "a", "b"})
	assert.False(t, ok)
	_, ok = lookup(s, "GET", "b")
	assert.True(t, ok)
	st := s.Stats()
	assert.Equal(t, 1, st.Entries)
	assert.Equal(t, uint64(2), st.Invalidated)
	assert.Len(t, s.byKey, 1, "the index forgets keys nothing depends on")
}

// TestStoreReadInFlightIsNotCachedAfterInvalidation: an invalidation that
// arrives between a read's Begin and its Finish keeps it from being cached,
// though its waiters get the reply.
func TestStoreReadInFlightIsNotCachedAfterInvalidation(t *testing.T) {
	s := New(1 << 20)
	o := &testOwner{}
	f, leader := s.Begin(1, []string{"GET", "k"}, []string{"k"}, o)
	require.True(t, leader)
	waiter, leader := s.Begin(1, []string{"GET", "k"}, []string{"k"}, o)
	require.False(t, leader)
	require.Same(t, f, waiter)
	s.Invalidate("k")
	s.Finish(f, resp.NewBulkString("old"), never, true)
	_, ok := lookup(s, "GET", "k")
	assert.False(t, ok)
	v, ok, err := waiter.Wait(context.Background())
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, resp.NewBulkString("old"), v)
	assert.Empty(t, s.byKey)
	assert.Empty(t, s.flights)
}

func TestStoreLostOwner(t *testing.T) {
	s := New(1 << 20)
	o, other := &testOwner{}, &testOwner{}
	fill(t, s, o, resp.NewBulkString("v"), "GET", "a")
	fill(t, s, other, resp.NewBulkString("v"), "GET", "b")
	f, _ := s.Begin(1, []string{"GET", "c"}, []string{"c"}, o)

	o.closed.Store(true)
	_, ok := lookup(s, "GET", "a")
	assert.False(t, ok, "no hit once the owner is closed, before DropOwner")
	s.DropOwner(o)
	s.Finish(f, resp.NewBulkString("v"), never, true)
	_, ok = lookup(s, "GET", "c")
	assert.False(t, ok, "a read on a lost connection is not cached")
	_, ok = lookup(s, "GET", "b")
	assert.True(t, ok)
	assert.Equal(t, 1, s.Stats().Entries)
}

func TestStoreDropSlot(t *testing.T) {
	s := New(1 << 20)
	o := &testOwner{}
	fill(t, s, o, resp.NewBulkString("v"), "GET", "{x}a")
	fill(t, s, o, resp.NewBulkString("v"), "GET", "{y}a")
	s.DropSlots([]uint16{uint16(slotOf([]string{"x"}))})
	_, ok := lookup(s, "GET", "{x}a")
	assert.False(t, ok)
	_, ok = lookup(s, "GET", "{y}a")
	assert.True(t, ok)
}

func TestStoreExpiry(t *testing.T) {
	s := New(1 << 20)
	f, _ := s.Begin(1, []string{"GET", "k"}, []string{"k"}, &testOwner{})
	s.Finish(f, resp.NewBulkString("v"), s.Now()+int64(20*time.Millisecond), true)
	_, ok := lookup(s, "GET", "k")
	assert.True(t, ok)
	require.Eventually(t, func() bool { _, ok := lookup(s, "GET", "k"); return !ok }, 5*time.Second, time.Millisecond)
}

func TestStoreErrorsAreNotCached(t *testing.T) {
	s := New(1 << 20)
	fill(t, s, &testOwner{}, resp.NewSimpleError("WRONGTYPE no"), "GET", "k")
	_, ok := lookup(s, "GET", "k")
	assert.False(t, ok)
}

// TestStoreBound: the bytes stay under the bound; recently used entries
// survive eviction; evictions are counted.
func TestStoreBound(t *testing.T) {
	const bound = 1 << 20
	s := New(bound)
	o := &testOwner{}
	value := resp.NewBulkString(string(make([]byte, 1000)))
	fill(t, s, o, value, "GET", "hot")
	for i := range 10000 {
		fill(t, s, o, value, "GET", "k"+strconv.Itoa(i))
		_, ok := lookup(s, "GET", "hot")
		require.True(t, ok, "the entry used all along survives (after %d)", i)
		require.LessOrEqual(t, s.Stats().Bytes, int64(bound))
	}
	st := s.Stats()
	assert.Greater(t, st.Evictions, uint64(9000))
	assert.Greater(t, st.Bytes, int64(bound*9/10), "the bound is used, not just respected")
	assert.Equal(t, st.Entries, len(s.byKey))

	big := resp.NewBulkString(string(make([]byte, 2*bound)))
	fill(t, s, o, big, "GET", "big")
	_, ok := lookup(s, "GET", "big")
	assert.False(t, ok, "larger than the bound: not cached")
}

// TestStoreHitAllocs: a hit allocates nothing.
func TestStoreHitAllocs(t *testing.T) {
	s := New(1 << 20)
	fill(t, s, &testOwner{}, resp.NewBulkString("v"), "GET", "k")
	args := []string{"GET", "k"}
	assert.Zero(t, testing.AllocsPerRun(1000, func() { s.Lookup(1, args) }))
}

func BenchmarkStoreHit(b *testing.B) {
	s := New(1 << 20)
	f, _ := s.Begin(1, []string{"GET", "k"}, []string{"k"}, &testOwner{})
	s.Finish(f, resp.NewBulkString("v"), never, true)
	args := []string{"GET", "k"}
	b.ReportAllocs()
	for b.Loop() {
		s.Lookup(1, args)
	}
}

// TestStoreKeepsCopies: the store's entries don't share memory with the
// caller's arguments, which may view bytes the caller reuses.
func TestStoreKeepsCopies(t *testing.T) {
	s := New(1 << 20)
	b := []byte("GETk")
	view := func() []string { return []string{unsafe.String(&b[0], 3), unsafe.String(&b[3], 1)} }
	f, leader := s.Begin(1, view(), view()[1:], &testOwner{})
	require.True(t, leader)
	s.Finish(f, resp.NewBulkString("v"), never, true)
	copy(b, "SETx")
	_, ok := lookup(s, "GET", "k")
	assert.True(t, ok, "the entry kept its own copy of the command")
	s.Invalidate("k")
	_, ok = lookup(s, "GET", "k")
	assert.False(t, ok, "and of its keys")
}
