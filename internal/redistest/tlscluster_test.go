package redistest

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTLSCluster builds a private cluster that speaks only TLS, bus and
// replication included, with a password, and moves a slot with a key.
func TestTLSCluster(t *testing.T) {
	start := time.Now()
	c := NewCluster(t, ClusterOptions{TLS: true, Password: "pw"})
	t.Logf("TLS cluster ready in %v", time.Since(start).Round(time.Millisecond))
	ctx := faultContext(t)
	masters := c.Masters()
	require.Len(t, masters, 3)
	assert.Len(t, c.Replicas(), 3)

	slots, err := masters[0].Do(ctx, "CLUSTER", "SLOTS")
	require.NoError(t, err)
	var ports []int
	for _, r := range slots.Elems() {
		ports = append(ports, int(must(r.Elems()[2].Elems()[1].Int())))
	}
	for _, m := range masters {
		assert.Contains(t, ports, m.Port, "CLUSTER SLOTS announces the TLS ports")
		assert.NotNil(t, m.TLSConfig())
	}

	slot := keySlot(t, ctx, masters[0], "tls-key")
	from, err := c.MasterOf(ctx, slot)
	require.NoError(t, err)
	_, err = from.Do(ctx, "SET", "tls-key", "1")
	require.NoError(t, err)
	to := masters[0]
	if to == from {
		to = masters[1]
	}
	require.NoError(t, c.MigrateSlot(ctx, slot, to), "MIGRATE over TLS with AUTH")
	v, err := to.Do(ctx, "GET", "tls-key")
	require.NoError(t, err)
	assert.Equal(t, "1", must(v.Text()))
	count, err := to.Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(slot))
	require.NoError(t, err)
	assert.EqualValues(t, 1, must(count.Int()))
}
