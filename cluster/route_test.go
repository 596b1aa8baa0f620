package cluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/slots"
)

// testTopology is two shards, the second with two online replicas, a failed
// one and a loading one, and a third master without slots.
func testTopology() *slots.Topology {
	t := &slots.Topology{Shards: []slots.Shard{
		{Master: slots.Node{Addr: "m1:1"}, Ranges: [][2]uint16{{0, 8191}}},
		{
			Master: slots.Node{Addr: "m2:1"},
			Replicas: []slots.Node{
				{Addr: "r2a:1", Health: slots.HealthOnline},
				{Addr: "r2b:1", Health: slots.HealthFailed},
				{Addr: "r2c:1", Health: slots.HealthLoading},
				{Addr: "r2d:1", Health: slots.HealthOnline},
			},
			Ranges: [][2]uint16{{8192, 16383}},
		},
		{Master: slots.Node{Addr: "empty:1"}},
	}}
	return t
}

func TestRouteTable(t *testing.T) {
	ns := &nodeSet{opts: &conn.Options{}}
	rt := newRouteTable(testTopology(), ns)
	require.Len(t, rt.shards, 2, "the master without slots serves nothing")
	assert.True(t, rt.loadingReplicas, "a loading replica was left out")
	assert.Equal(t, "m1:1", rt.pick(0, false).addr)
	assert.Equal(t, "m1:1", rt.pick(8191, true).addr, "no replica: reads go to the master")
	assert.Equal(t, "m2:1", rt.pick(8192, false).addr)
	assert.Equal(t, map[string]bool{"m1:1": true, "m2:1": true, "r2a:1": true, "r2c:1": true, "r2d:1": true}, rt.addrs(),
		"the failed replica is left out; the loading one is kept, for all_nodes commands")
	var all []string
	for _, n := range rt.allNodes() {
		all = append(all, n.addr)
	}
	assert.ElementsMatch(t, []string{"m1:1", "m2:1", "r2a:1", "r2c:1", "r2d:1"}, all)
	seen := map[string]bool{}
	for range 200 {
		seen[rt.pick(16383, true).addr] = true
		seen[rt.pick(noSlot, false).addr] = true
	}
	assert.Equal(t, map[string]bool{"r2a:1": true, "r2d:1": true, "m1:1": true, "m2:1": true}, seen,
		"reads spread over the replicas, keyless commands over the masters")

	// MOVED to a known master keeps its replicas; to a new one, adds it.
	moved := rt.withSlot(5, "m2:1", ns)
	assert.Equal(t, "m2:1", moved.pick(5, false).addr)
	assert.Len(t, moved.slots[5].replicas, 2)
	assert.Equal(t, "m1:1", rt.pick(5, false).addr, "the old table is not modified")
	moved = moved.withSlot(6, "new:1", ns)
	assert.Equal(t, "new:1", moved.pick(6, true).addr)
	assert.Len(t, moved.shards, 3)
	assert.Same(t, ns.get("new:1"), moved.pick(6, false), "one node per address")
	ns.closeAll()
}
