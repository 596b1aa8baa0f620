package slots

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// The fuzzers decode arbitrary bytes into a Value and parse it. Seeds are the
// captured replies (testdata/fuzz) and the hand-built edge cases below.
// Properties: no panic; a parsed topology is consistent; the same reply in
// RESP2 shape (maps as flat arrays) parses to the same topology.

func FuzzParseClusterSlots(f *testing.F) {
	f.Add(resp.AppendValue(nil, arr(arr(num(0), num(16383),
		slotsNodeValue(resp.NewNull(), 7001, "m", bulk("hostname"), bulk("a.example")),
		slotsNodeValue(bulk("?"), 7002, "r", bulk("ip"), bulk("10.0.0.3"))))), "10.0.0.1:7000")
	f.Add(resp.AppendValue(nil, arr(arr(num(0), num(10), slotsNodeValue(bulk("h"), 1, "a")),
		arr(num(5), num(20), slotsNodeValue(bulk("h"), 2, "b")))), "h:1")
	fuzzParser(f, ParseClusterSlots)
}

func FuzzParseClusterShards(f *testing.F) {
	f.Add(resp.AppendValue(nil, arr(
		shardValue([]int64{0, 99, 200, 16383}, shardNodeValue("m", "master", bulk("tls-port"), num(7443)),
			shardNodeValue("r", "replica", bulk("health"), bulk("fail"), bulk("endpoint"), bulk(""))),
		shardValue(nil, shardNodeValue("z", "master", bulk("endpoint"), bulk("?"))))), "10.0.0.1:7443")
	fuzzParser(f, ParseClusterShards)
}

func fuzzParser(f *testing.F, parse func(resp.Value, string) (*Topology, error)) {
	f.Fuzz(func(t *testing.T, data []byte, askedAddr string) {
		r := resp.NewReader(bytes.NewReader(data))
		r.SetMaxBulkLen(1 << 16)
		v, err := r.Read()
		if err != nil {
			return
		}
		topo, err := parse(v, askedAddr)
		if err != nil {
			require.Regexp(t, `^slots: `, err.Error())
			require.Nil(t, topo)
			return
		}
		checkConsistent(t, topo)
		flat, err := parse(flatten(v), askedAddr)
		require.NoError(t, err, "the RESP2 shape of a good reply")
		require.Equal(t, topo.Shards, flat.Shards)
		require.True(t, Diff(topo, flat).Empty())
		require.Equal(t, movedSlotByShardFor(nil, topo), Diff(nil, topo).MovedSlots)
	})
}

// checkConsistent verifies what every parsed topology promises.
func checkConsistent(t *testing.T, topo *Topology) {
	t.Helper()
	covered := 0
	for i := range topo.Shards {
		s := &topo.Shards[i]
		require.Equal(t, RoleMaster, s.Master.Role)
		require.NotEmpty(t, s.Master.Addr)
		for _, r := range s.Replicas {
			require.Equal(t, RoleReplica, r.Role)
			require.NotEmpty(t, r.Addr)
		}
		for j, r := range s.Ranges {
			require.LessOrEqual(t, r[0], r[1])
			require.Less(t, int(r[1]), NumSlots)
			if j > 0 {
				require.Greater(t, int(r[0]), int(s.Ranges[j-1][1])+1, "ranges sorted and merged")
			}
			for slot := int(r[0]); slot <= int(r[1]); slot++ {
				if got, ok := topo.ShardFor(uint16(slot)); !ok || got != s {
					t.Fatalf("slot %d: ShardFor gives %v, %v; want shard %d", slot, got, ok, i)
				}
			}
			covered += int(r[1]-r[0]) + 1
		}
	}
	require.Equal(t, covered, topo.Covered())
	served := 0
	for slot := range uint16(NumSlots) {
		if _, ok := topo.ShardFor(slot); ok {
			served++
		}
	}
	require.Equal(t, covered, served, "no slot served outside the ranges")
}
