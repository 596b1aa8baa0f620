package slots

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZeroTopologyIsEmpty(t *testing.T) {
	var topo Topology
	for _, slot := range []uint16{0, 1, NumSlots - 1} {
		shard, ok := topo.ShardFor(slot)
		assert.False(t, ok)
		assert.Nil(t, shard)
	}
	assert.Empty(t, topo.Addrs())
	assert.Zero(t, topo.Covered())
}

func TestShardForOutOfRange(t *testing.T) {
	topo, err := ParseClusterSlots(arr(arr(num(0), num(16383), arr(bulk("h"), num(1), bulk("m")))), "h:1")
	require.NoError(t, err)
	for _, slot := range []uint16{NumSlots, NumSlots + 1, 65535} {
		shard, ok := topo.ShardFor(slot)
		assert.False(t, ok, "slot %d", slot)
		assert.Nil(t, shard)
	}
	shard, ok := topo.ShardFor(NumSlots - 1)
	require.True(t, ok)
	assert.Equal(t, "h:1", shard.Master.Addr)
}

func TestAddrsMastersFirstEachOnce(t *testing.T) {
	topo := parseCapture(t, "failed_replica_shards_resp3", "127.0.0.1:27101")
	assert.Equal(t, []string{
		"127.0.0.1:27101", "127.0.0.1:27102", "127.0.0.1:27103", "127.0.0.1:27107", // masters, in shard order
		"127.0.0.1:27104", "127.0.0.1:27105", "127.0.0.1:27106", // replicas, the failed one too
	}, topo.Addrs())

	// Two nodes at one address (a node restarted under a new ID) are listed once.
	dup, err := ParseClusterShards(arr(
		shardValue([]int64{0, 9}, shardNodeValue("a", "master"), shardNodeValue("old", "replica", bulk("port"), num(7001))),
		shardValue([]int64{10, 19}, shardNodeValue("b", "master", bulk("port"), num(7001)))), "h:1")
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.2:7000", "10.0.0.2:7001"}, dup.Addrs())
}

func TestCovered(t *testing.T) {
	assert.Equal(t, NumSlots-1, parseCapture(t, "hostname_gap_slots_resp2", "127.0.0.1:27101").Covered())
	assert.Equal(t, NumSlots, parseCapture(t, "plain_slots_resp2", "127.0.0.1:27101").Covered())
}
