package cluster

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// TestStatsPerNode spreads commands over the masters: each master's
// figures count its own, and Total sums them.
func TestStatsPerNode(t *testing.T) {
	c := newTestClient(t, &Options{RefreshInterval: -1})
	ctx := testContext(t, 30*time.Second)
	before := c.Stats()
	prefix := uniqueKey(t, "")
	const n = 300
	for i := range n {
		_, err := c.Do(ctx, "SET", prefix+strconv.Itoa(i), "v")
		require.NoError(t, err)
	}
	st := c.Stats()
	var sum, commands uint64
	masters := 0
	for _, m := range redistest.Cluster().Masters() {
		ns, ok := st.Nodes[m.Addr]
		require.True(t, ok, "master %s has figures", m.Addr)
		got := ns.Commands - before.Nodes[m.Addr].Commands
		assert.Greater(t, got, uint64(n/10), "master %s served its share of %d SETs", m.Addr, n)
		commands += got
		masters++
	}
	for _, ns := range st.Nodes {
		sum += ns.Commands
	}
	assert.Equal(t, 3, masters)
	assert.Equal(t, uint64(n), commands, "every SET counted once, on its master")
	assert.Equal(t, sum, st.Total.Commands, "Total is the sum of Nodes")
	assert.Equal(t, uint64(n), st.Total.Commands-before.Total.Commands)
	assert.Positive(t, st.Total.BytesWritten)
	assert.Positive(t, st.Total.BytesRead)
	assert.Zero(t, st.Total.Errors)
	assert.Zero(t, st.Suspects)
	t.Logf("stats: %d nodes, total %+v", len(st.Nodes), st.Total)
}
