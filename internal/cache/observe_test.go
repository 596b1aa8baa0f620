package cache

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// TestStoreObserve: an Observer is told, once per call, how many entries of
// its namespace were evicted or invalidated (by key, by owner, by slot),
// never another namespace's, and nothing once removed.
func TestStoreObserve(t *testing.T) {
	value := resp.NewBulkString(string(make([]byte, 1000)))
	bound := 5 * sizeOf([]string{"GET", "k0"}, value)
	s := New(bound)
	o := &testOwner{}
	var told [numDropKinds][]int
	s.Observe(1, func(kind DropKind, n int) { told[kind] = append(told[kind], n) })
	s.Observe(2, func(DropKind, int) { t.Error("namespace 2 has no entries") })

	for i := range 7 {
		fill(t, s, o, value, "GET", "k"+strconv.Itoa(i))
	}
	assert.Equal(t, []int{1, 1}, told[DropEvicted], "the 6th and 7th fill each evict one")
	assert.Equal(t, uint64(2), s.Stats().Evictions)

	fill(t, s, o, resp.NewArray(), "MGET", "k5", "k6")
	s.Invalidate("k5")
	assert.Equal(t, []int{2}, told[DropInvalidated], "GET k5 and the MGET, in one call")
	other := &testOwner{}
	fill(t, s, other, resp.NewBulkString("v"), "GET", "x")
	s.DropOwner(other)
	assert.Equal(t, []int{2, 1}, told[DropInvalidated])
	evicted := 0
	for _, n := range told[DropEvicted] {
		evicted += n
	}
	assert.Equal(t, s.Stats().Evictions, uint64(evicted), "every eviction told")
	assert.Equal(t, []int{1, 1, 1}, told[DropEvicted], "the MGET's fill evicted one more")

	s.Observe(1, nil)
	s.Observe(2, nil)
	assert.Zero(t, s.observed.Load())
	s.Invalidate("k6")
	assert.Equal(t, []int{2, 1}, told[DropInvalidated], "no longer told")
	require.Equal(t, uint64(4), s.Stats().Invalidated)
}
