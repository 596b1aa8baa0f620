package slots

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiff(t *testing.T) {
	const asked = "127.0.0.1:27101"
	gap := parseCapture(t, "hostname_gap_slots_resp3", asked)
	plain := parseCapture(t, "plain_slots_resp3", asked)
	failedSlots := parseCapture(t, "failed_replica_slots_resp3", asked)
	failedShards := parseCapture(t, "failed_replica_shards_resp3", asked)
	endpointHostname := parseCapture(t, "endpoint_hostname_slots_resp3", asked)

	// A failover: the replica of the first shard takes over its slots.
	failover, err := ParseClusterSlots(arr(
		arr(num(0), num(5000), arr(bulk("127.0.0.1"), num(27104), bulk(idA1)), arr(bulk("127.0.0.1"), num(27101), bulk(idA))),
		arr(num(5001), num(10000), arr(bulk("127.0.0.1"), num(27102), bulk(idB)), arr(bulk("127.0.0.1"), num(27105), bulk(idB1))),
		arr(num(10001), num(16000), arr(bulk("127.0.0.1"), num(27103), bulk(idC)), arr(bulk("127.0.0.1"), num(27106), bulk(idC1))),
		arr(num(16001), num(16383), arr(bulk("127.0.0.1"), num(27104), bulk(idA1)), arr(bulk("127.0.0.1"), num(27101), bulk(idA)))), asked)
	require.NoError(t, err)

	slotRange := func(first, last int) []uint16 {
		var s []uint16
		for slot := first; slot <= last; slot++ {
			s = append(s, uint16(slot))
		}
		return s
	}
	allAddrs := []string{"127.0.0.1:27101", "127.0.0.1:27102", "127.0.0.1:27103", "127.0.0.1:27104", "127.0.0.1:27105", "127.0.0.1:27106"}

	tests := []struct {
		name     string
		old, new *Topology
		want     Changes
	}{
		{"same", plain, plain, Changes{}},
		{"same cluster through the other command", plain, parseCapture(t, "plain_shards_resp2", asked), Changes{}},
		{"an unserved slot gets an owner", gap, plain, Changes{MovedSlots: []uint16{16000}}},
		{"a served slot loses its owner", plain, gap, Changes{MovedSlots: []uint16{16000}}},
		{"a replica fails and leaves CLUSTER SLOTS", plain, failedSlots, Changes{RemovedNodes: []string{"127.0.0.1:27106"}}},
		{"an empty master joins, a replica fails but stays", plain, failedShards, Changes{AddedNodes: []string{"127.0.0.1:27107"}}},
		{"failover moves the shard's slots", plain, failover, Changes{MovedSlots: append(slotRange(0, 5000), slotRange(16001, 16383)...)}},
		{"every node's address changes", gap, endpointHostname, Changes{
			MovedSlots: append(slotRange(0, 15999), slotRange(16001, 16383)...),
			AddedNodes: []string{
				"node-27101.example:27101", "node-27102.example:27102", "node-27103.example:27103",
				"node-27104.example:27104", "node-27105.example:27105", "node-27106.example:27106",
			},
			RemovedNodes: allAddrs,
		}},
		{"from nil", nil, plain, Changes{MovedSlots: slotRange(0, NumSlots-1), AddedNodes: allAddrs}},
		{"to nil", plain, nil, Changes{MovedSlots: slotRange(0, NumSlots-1), RemovedNodes: allAddrs}},
		{"nil to nil", nil, nil, Changes{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.old, tt.new)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.Empty(), got.Empty())
			assert.Equal(t, movedSlotByShardFor(tt.old, tt.new), got.MovedSlots, "agrees with ShardFor")
		})
	}
}

// movedSlotByShardFor is Diff's MovedSlots by definition: slots whose
// master, as ShardFor tells it, differs.
func movedSlotByShardFor(old, new *Topology) []uint16 {
	var moved []uint16
	for slot := range uint16(NumSlots) {
		var from, to *Shard
		if old != nil {
			from, _ = old.ShardFor(slot)
		}
		if new != nil {
			to, _ = new.ShardFor(slot)
		}
		switch {
		case from == nil && to == nil:
		case from == nil || to == nil, from.Master.ID != to.Master.ID, from.Master.Addr != to.Master.Addr:
			moved = append(moved, slot)
		}
	}
	return moved
}
