package cluster

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// scanAll runs Scan over the keys that match pattern and returns how many
// times it yielded each; during, if set, runs in the loop body after the
// n-th key.
func scanAll(t *testing.T, ctx context.Context, c *Client, pattern string, n int, during func()) map[string]int {
	t.Helper()
	seen := make(map[string]int)
	i := 0
	for key, err := range c.Scan(ctx, &ScanOptions{Match: pattern, Count: 500}) {
		require.NoError(t, err)
		seen[key]++
		if i++; i == n && during != nil {
			during()
		}
	}
	return seen
}

func assertFoundAll(t *testing.T, keys []string, seen map[string]int) {
	t.Helper()
	missed := 0
	for _, k := range keys {
		if seen[k] == 0 {
			missed++
		}
	}
	assert.Zero(t, missed, "keys the scan missed")
	twice := 0
	for _, n := range seen {
		if n > 1 {
			twice++
		}
	}
	t.Logf("%d keys, %d found, %d found more than once", len(keys), len(seen), twice)
}

func TestScanFindsEveryKey(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 60*time.Second)
	prefix := uniqueKey(t, "k")
	keys := spreadKeys(t, ctx, c, prefix, 10000)
	seen := scanAll(t, ctx, c, prefix+"*", 0, nil)
	assertFoundAll(t, keys, seen)
	assert.Len(t, seen, len(keys), "nothing else matches")

	// TYPE narrows it; breaking out of the loop ends it.
	_, err := c.Do(ctx, "LPUSH", prefix+"list", "x")
	require.NoError(t, err)
	var lists []string
	for key, err := range c.Scan(ctx, &ScanOptions{Match: prefix + "*", Type: "list", Count: 1000}) {
		require.NoError(t, err)
		lists = append(lists, key)
	}
	assert.Equal(t, []string{prefix + "list"}, lists)
	n := 0
	for range c.Scan(ctx, nil) {
		if n++; n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
}

// TestScanDuringMigration moves a slot, with keys, from a master not yet
// scanned to the master being scanned, in the middle of the scan: the
// moved keys are found all the same (the gaining master is scanned again).
func TestScanDuringMigration(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 2*time.Minute)
	prefix := uniqueKey(t, "k")
	keys := spreadKeys(t, ctx, c, prefix, 10000)
	masters := c.Masters()
	first, last := masters[0], masters[len(masters)-1]
	slot := int(last.Slots[0][0]) + 7
	tag := keyForSlot("", slot)
	var moving []string
	for i := range 50 {
		k := tag + prefix + "m" + strconv.Itoa(i)
		_, err := c.Do(ctx, "SET", k, "v")
		require.NoError(t, err)
		moving = append(moving, k)
	}
	keys = append(keys, moving...)
	cl := redistest.Cluster()
	owner := cl.NodeByAddr(last.Addr)
	moveSlotBack(t, slot, owner)
	seen := scanAll(t, ctx, c, "*"+prefix+"*", 1, func() {
		require.NoError(t, cl.MigrateSlot(ctx, slot, cl.NodeByAddr(first.Addr)))
	})
	assertFoundAll(t, keys, seen)
}

// TestScanDuringFailover kills the master being scanned, in the middle of
// the scan: the scan waits for its replica to take over and scans the new
// master from the start; no key is missed.
func TestScanDuringFailover(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 2*time.Minute)
	prefix := uniqueKey(t, "k")
	keys := spreadKeys(t, ctx, c, prefix, 10000)
	v, err := c.Do(ctx, "WAIT", "1", "5000") // every master's replica has the keys
	require.NoError(t, err)
	n, _ := v.Int()
	require.Equal(t, int64(1), n)

	cl := redistest.Cluster()
	victim := cl.NodeByAddr(c.Masters()[0].Addr)
	require.NotNil(t, victim)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if !victim.Running() {
			assert.NoError(t, victim.Restart(ctx))
		}
		assert.NoError(t, cl.WaitHealthy(ctx))
	})
	start := time.Now()
	seen := scanAll(t, ctx, c, prefix+"*", 100, func() { require.NoError(t, victim.Kill()) })
	t.Logf("the scan took %v with a failover in it", time.Since(start).Round(time.Millisecond))
	assertFoundAll(t, keys, seen)
	assert.NotEqual(t, victim.Addr, c.Masters()[0].Addr, "the replica took over")
}
