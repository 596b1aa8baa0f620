package slots

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// Short names for building replies by hand.
var (
	bulk = resp.NewBulkString
	num  = resp.NewInt
	arr  = resp.NewArray
	kv   = resp.NewMap
)

// slotsNodeValue is one node of a CLUSTER SLOTS range, RESP3 shape.
func slotsNodeValue(endpoint resp.Value, port int64, id string, meta ...resp.Value) resp.Value {
	return arr(endpoint, num(port), bulk(id), kv(meta...))
}

func TestParseClusterSlotsEdgeCases(t *testing.T) {
	const asked = "10.0.0.1:7000"
	one := func(first, last int64, nodes ...resp.Value) resp.Value {
		return arr(append([]resp.Value{num(first), num(last)}, nodes...)...)
	}
	tests := []struct {
		name  string
		reply resp.Value
		want  []Shard
	}{{
		name:  "empty reply: no shard serves any slot",
		reply: arr(),
		want:  nil,
	}, {
		name:  "NULL endpoint stands for the asked host",
		reply: arr(one(0, 16383, slotsNodeValue(resp.NewNull(), 7001, "m"))),
		want:  []Shard{{Master: master("m", "10.0.0.1:7001", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name:  "RESP2 null bulk endpoint stands for the asked host",
		reply: arr(one(0, 16383, arr(resp.NewNullBulk(), num(7001), bulk("m"), arr()))),
		want:  []Shard{{Master: master("m", "10.0.0.1:7001", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name:  "empty endpoint stands for the asked host",
		reply: arr(one(0, 16383, slotsNodeValue(bulk(""), 7001, "m"))),
		want:  []Shard{{Master: master("m", "10.0.0.1:7001", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name:  "? endpoint with an ip in the metadata uses the ip",
		reply: arr(one(0, 16383, slotsNodeValue(bulk("?"), 7001, "m", bulk("ip"), bulk("192.168.1.5")))),
		want:  []Shard{{Master: master("m", "192.168.1.5:7001", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name:  "? endpoint without an ip stands for the asked host",
		reply: arr(one(0, 16383, slotsNodeValue(bulk("?"), 7001, "m"))),
		want:  []Shard{{Master: master("m", "10.0.0.1:7001", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name: "hostname metadata, RESP3 map and RESP2 flat array",
		reply: arr(one(0, 16383,
			slotsNodeValue(bulk("10.0.0.2"), 7002, "m", bulk("hostname"), bulk("a.example"), bulk("future"), num(1)),
			arr(bulk("10.0.0.3"), num(7003), bulk("r"), arr(bulk("hostname"), bulk("b.example"))))),
		want: []Shard{{
			Master:   master("m", "10.0.0.2:7002", "a.example"),
			Replicas: []Node{replica("r", "10.0.0.3:7003", "b.example")},
			Ranges:   [][2]uint16{{0, 16383}},
		}},
	}, {
		name:  "IPv6 endpoint",
		reply: arr(one(0, 16383, slotsNodeValue(bulk("::1"), 7001, "m"))),
		want:  []Shard{{Master: master("m", "[::1]:7001", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name:  "IPv6 asked address stands in for a NULL endpoint",
		reply: arr(one(0, 16383, slotsNodeValue(resp.NewNull(), 7001, "m"))),
		want:  []Shard{{Master: master("m", "[fe80::1]:7001", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name: "Redis 6 shape (no metadata) and Redis 3 shape (no id), extra elements ignored",
		reply: arr(
			one(0, 99, arr(bulk("10.0.0.2"), num(7002), bulk("m")), arr(bulk("10.0.0.3"), num(7003), bulk("r"))),
			one(100, 199, arr(bulk("10.0.0.4"), num(7004)), arr(bulk("10.0.0.5"), num(7005), bulk("r2"), kv(), bulk("x")))),
		want: []Shard{
			{Master: master("m", "10.0.0.2:7002", ""), Replicas: []Node{replica("r", "10.0.0.3:7003", "")}, Ranges: [][2]uint16{{0, 99}}},
			{Master: master("", "10.0.0.4:7004", ""), Replicas: []Node{replica("r2", "10.0.0.5:7005", "")}, Ranges: [][2]uint16{{100, 199}}},
		},
	}, {
		name: "a master's ranges gather in one shard, merged when adjacent, replicas once",
		reply: arr(
			one(200, 299, slotsNodeValue(bulk("h"), 2, "m2")),
			one(0, 9, slotsNodeValue(bulk("h"), 1, "m1"), slotsNodeValue(bulk("h"), 11, "r1")),
			one(500, 16383, slotsNodeValue(bulk("h"), 1, "m1"), slotsNodeValue(bulk("h"), 11, "r1")),
			one(10, 199, slotsNodeValue(bulk("h"), 1, "m1"), slotsNodeValue(bulk("h"), 11, "r1"), slotsNodeValue(bulk("h"), 12, "r2"))),
		want: []Shard{
			{
				Master:   master("m1", "h:1", ""),
				Replicas: []Node{replica("r1", "h:11", ""), replica("r2", "h:12", "")},
				Ranges:   [][2]uint16{{0, 199}, {500, 16383}},
			},
			{Master: master("m2", "h:2", ""), Ranges: [][2]uint16{{200, 299}}},
		},
	}, {
		name:  "slots and ports sent as strings",
		reply: arr(arr(bulk("0"), bulk("16383"), arr(bulk("h"), bulk("7000"), bulk("m")))),
		want:  []Shard{{Master: master("m", "h:7000", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			askedAddr := asked
			if tt.name == "IPv6 asked address stands in for a NULL endpoint" {
				askedAddr = "[fe80::1]:7000"
			}
			topo, err := ParseClusterSlots(tt.reply, askedAddr)
			require.NoError(t, err)
			requireTopology(t, tt.want, topo)
		})
	}
}

func TestParseClusterSlotsErrors(t *testing.T) {
	node := func(id string, port int64) resp.Value { return slotsNodeValue(bulk("h"), port, id) }
	tests := []struct {
		name      string
		reply     resp.Value
		askedAddr string
		want      string
	}{
		{"server error", resp.NewSimpleError("ERR This instance has cluster support disabled"), "h:1", "server error: ERR This instance"},
		{"not an array", num(3), "h:1", "want an array, got integer"},
		{"null reply", resp.NewNull(), "h:1", "want an array"},
		{"range not an array", arr(bulk("x")), "h:1", "range 0: want an array"},
		{"range without master", arr(arr(num(0), num(1))), "h:1", "want first slot, last slot and master"},
		{"first slot not a number", arr(arr(bulk("a"), num(1), node("m", 1))), "h:1", "first slot: want an integer"},
		{"last slot a map", arr(arr(num(0), kv(), node("m", 1))), "h:1", "last slot: want an integer"},
		{"negative slot", arr(arr(num(-1), num(1), node("m", 1))), "h:1", "bad slot range -1-1"},
		{"slot past the end", arr(arr(num(0), num(16384), node("m", 1))), "h:1", "bad slot range 0-16384"},
		{"range backwards", arr(arr(num(9), num(3), node("m", 1))), "h:1", "bad slot range 9-3"},
		{"node too short", arr(arr(num(0), num(1), arr(bulk("h")))), "h:1", "master: want endpoint and port"},
		{"node not an array", arr(arr(num(0), num(1), bulk("h:1"))), "h:1", "master: want an array"},
		{"endpoint an integer", arr(arr(num(0), num(1), arr(num(1), num(1)))), "h:1", "endpoint: want a string"},
		{"port zero", arr(arr(num(0), num(1), node("m", 0))), "h:1", "bad port 0"},
		{"port too big", arr(arr(num(0), num(1), node("m", 70000))), "h:1", "bad port 70000"},
		{"id an array", arr(arr(num(0), num(1), arr(bulk("h"), num(1), arr()))), "h:1", "id: want a string"},
		{"metadata an integer", arr(arr(num(0), num(1), arr(bulk("h"), num(1), bulk("m"), num(4)))), "h:1", "metadata: want a map"},
		{"metadata odd", arr(arr(num(0), num(1), arr(bulk("h"), num(1), bulk("m"), arr(bulk("hostname"))))), "h:1", "in pairs"},
		{"metadata key a number", arr(arr(num(0), num(1), slotsNodeValue(bulk("h"), 1, "m", num(1), num(2)))), "h:1", "metadata: key: want a string"},
		{"hostname a number", arr(arr(num(0), num(1), slotsNodeValue(bulk("h"), 1, "m", bulk("hostname"), num(2)))), "h:1", "hostname: want a string"},
		{"replica malformed", arr(arr(num(0), num(1), node("m", 1), num(3))), "h:1", "replica 0: want an array"},
		{"slot served twice", arr(arr(num(0), num(10), node("a", 1)), arr(num(10), num(20), node("b", 2))), "h:1", "slot 10 is served by both"},
		{"ranges of one master overlap", arr(arr(num(0), num(10), node("a", 1)), arr(num(5), num(20), node("a", 1))), "h:1", "slot 5 is served twice"},
		{"master also a replica", arr(arr(num(0), num(1), node("a", 1), node("b", 2)), arr(num(2), num(3), node("b", 2))), "h:1", "both a master and a replica"},
		{"replica of two masters", arr(arr(num(0), num(1), node("a", 1), node("r", 3)), arr(num(2), num(3), node("b", 2), node("r", 3))), "h:1", "two roles or shards"},
		{"unknown endpoint, no asked address", arr(arr(num(0), num(1), slotsNodeValue(resp.NewNull(), 1, "m"))), "", "endpoint unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo, err := ParseClusterSlots(tt.reply, tt.askedAddr)
			require.Error(t, err)
			assert.Nil(t, topo)
			assert.Regexp(t, `^slots: `, err.Error())
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestServerErrorIsKept(t *testing.T) {
	reply := resp.NewSimpleError("ERR This instance has cluster support disabled")
	for _, parse := range []func(resp.Value, string) (*Topology, error){ParseClusterSlots, ParseClusterShards} {
		_, err := parse(reply, "h:1")
		var serverErr *resp.Error
		require.ErrorAs(t, err, &serverErr)
		assert.Equal(t, "ERR", serverErr.Code)
	}
}
