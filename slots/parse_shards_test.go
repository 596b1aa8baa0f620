package slots

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// shardValue is one shard of a CLUSTER SHARDS reply, RESP3 shape.
func shardValue(slots []int64, nodes ...resp.Value) resp.Value {
	s := make([]resp.Value, len(slots))
	for i, n := range slots {
		s[i] = num(n)
	}
	return kv(bulk("slots"), arr(s...), bulk("nodes"), arr(nodes...))
}

// shardNodeValue is one node of a shard: the given fields after id, ip,
// port, role and health defaults; later fields win.
func shardNodeValue(id, role string, fields ...resp.Value) resp.Value {
	base := []resp.Value{
		bulk("id"), bulk(id), bulk("port"), num(7000), bulk("ip"), bulk("10.0.0.2"),
		bulk("endpoint"), bulk("10.0.0.2"), bulk("role"), bulk(role),
		bulk("replication-offset"), num(42), bulk("health"), bulk("online"),
	}
	return kv(append(base, fields...)...)
}

// flatten turns RESP3 maps into RESP2 flat arrays, all the way down.
func flatten(v resp.Value) resp.Value {
	switch v.Kind() {
	case resp.Map, resp.Array:
		elems := make([]resp.Value, len(v.Elems()))
		for i, e := range v.Elems() {
			elems[i] = flatten(e)
		}
		return arr(elems...)
	}
	return v
}

func TestParseClusterShardsEdgeCases(t *testing.T) {
	const asked = "10.0.0.1:7000"
	tests := []struct {
		name      string
		reply     resp.Value
		askedAddr string
		want      []Shard
	}{{
		name: "failed and loading replicas are kept with their health",
		reply: arr(shardValue([]int64{0, 16383},
			shardNodeValue("m", "master", bulk("port"), num(7001)),
			shardNodeValue("r1", "replica", bulk("port"), num(7002), bulk("health"), bulk("fail")),
			shardNodeValue("r2", "replica", bulk("port"), num(7003), bulk("health"), bulk("loading")),
			shardNodeValue("r3", "replica", bulk("port"), num(7004), bulk("health"), bulk("failed")))),
		want: []Shard{{
			Master: master("m", "10.0.0.2:7001", ""),
			Replicas: []Node{
				{ID: "r1", Addr: "10.0.0.2:7002", Role: RoleReplica, Health: HealthFailed},
				{ID: "r2", Addr: "10.0.0.2:7003", Role: RoleReplica, Health: HealthLoading},
				{ID: "r3", Addr: "10.0.0.2:7004", Role: RoleReplica, Health: HealthFailed},
			},
			Ranges: [][2]uint16{{0, 16383}},
		}},
	}, {
		name: "endpoints: hostname, ?, empty, NULL, missing",
		reply: arr(
			shardValue([]int64{0, 0}, shardNodeValue("a", "master", bulk("endpoint"), bulk("a.example"), bulk("hostname"), bulk("a.example"))),
			shardValue([]int64{1, 1}, shardNodeValue("b", "master", bulk("endpoint"), bulk("?"), bulk("ip"), bulk("10.0.0.3"))),
			shardValue([]int64{2, 2}, shardNodeValue("c", "master", bulk("endpoint"), bulk(""))),
			shardValue([]int64{3, 3}, shardNodeValue("d", "master", bulk("endpoint"), resp.NewNull())),
			shardValue([]int64{4, 4}, kv(bulk("id"), bulk("e"), bulk("port"), num(7000), bulk("ip"), bulk("10.0.0.4"), bulk("role"), bulk("master"))),
			shardValue([]int64{5, 5}, shardNodeValue("f", "master", bulk("endpoint"), bulk("?"), bulk("ip"), bulk("")))),
		want: []Shard{
			{Master: master("a", "a.example:7000", "a.example"), Ranges: [][2]uint16{{0, 0}}},
			{Master: master("b", "10.0.0.3:7000", ""), Ranges: [][2]uint16{{1, 1}}},
			{Master: master("c", "10.0.0.1:7000", ""), Ranges: [][2]uint16{{2, 2}}},
			{Master: master("d", "10.0.0.1:7000", ""), Ranges: [][2]uint16{{3, 3}}},
			{Master: master("e", "10.0.0.4:7000", ""), Ranges: [][2]uint16{{4, 4}}},
			{Master: master("f", "10.0.0.1:7000", ""), Ranges: [][2]uint16{{5, 5}}},
		},
	}, {
		name: "a node with only a tls-port is reached there",
		reply: arr(shardValue([]int64{0, 16383},
			kv(bulk("id"), bulk("m"), bulk("tls-port"), num(7443), bulk("ip"), bulk("10.0.0.2"), bulk("role"), bulk("master")))),
		want: []Shard{{Master: master("m", "10.0.0.2:7443", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name: "asked on a tls-port: every node's tls-port",
		reply: arr(
			shardValue([]int64{0, 99}, shardNodeValue("a", "master", bulk("tls-port"), num(7100))),
			shardValue([]int64{100, 16383}, shardNodeValue("b", "master", bulk("port"), num(7001), bulk("tls-port"), num(7101)))),
		askedAddr: "10.0.0.2:7101",
		want: []Shard{
			{Master: master("a", "10.0.0.2:7100", ""), Ranges: [][2]uint16{{0, 99}}},
			{Master: master("b", "10.0.0.2:7101", ""), Ranges: [][2]uint16{{100, 16383}}},
		},
	}, {
		name: "slotless master, several ranges, unserved slots, role slave",
		reply: arr(
			shardValue(nil, shardNodeValue("z", "master", bulk("port"), num(7009))),
			shardValue([]int64{10, 19, 0, 4, 5, 9}, shardNodeValue("r", "slave", bulk("port"), num(7002)), shardNodeValue("m", "master", bulk("port"), num(7001))),
			shardValue(nil, shardNodeValue("y", "master", bulk("port"), num(7008)))),
		want: []Shard{
			{Master: master("m", "10.0.0.2:7001", ""), Replicas: []Node{replica("r", "10.0.0.2:7002", "")}, Ranges: [][2]uint16{{0, 19}}},
			{Master: master("y", "10.0.0.2:7008", "")},
			{Master: master("z", "10.0.0.2:7009", "")},
		},
	}, {
		name: "after a failover, the failed old master is left out",
		reply: arr(shardValue([]int64{0, 16383},
			shardNodeValue("old", "master", bulk("port"), num(7001), bulk("health"), bulk("fail")),
			shardNodeValue("new", "master", bulk("port"), num(7002)),
			shardNodeValue("r", "replica", bulk("port"), num(7003)))),
		want: []Shard{{
			Master:   master("new", "10.0.0.2:7002", ""),
			Replicas: []Node{replica("r", "10.0.0.2:7003", "")},
			Ranges:   [][2]uint16{{0, 16383}},
		}},
	}, {
		name: "a failed master is still the master",
		reply: arr(shardValue([]int64{0, 16383},
			shardNodeValue("m", "master", bulk("health"), bulk("fail")))),
		want: []Shard{{
			Master: Node{ID: "m", Addr: "10.0.0.2:7000", Role: RoleMaster, Health: HealthFailed},
			Ranges: [][2]uint16{{0, 16383}},
		}},
	}, {
		name: "replicas with neither master nor slots are skipped",
		reply: arr(
			shardValue(nil, shardNodeValue("orphan", "replica", bulk("port"), num(7005))),
			shardValue([]int64{0, 16383}, shardNodeValue("m", "master"))),
		want: []Shard{{Master: master("m", "10.0.0.2:7000", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}, {
		name:  "slots sent as strings, unknown fields ignored",
		reply: arr(kv(bulk("slots"), arr(bulk("0"), bulk("16383")), bulk("future"), kv(), bulk("nodes"), arr(shardNodeValue("m", "master", bulk("future"), arr())))),
		want:  []Shard{{Master: master("m", "10.0.0.2:7000", ""), Ranges: [][2]uint16{{0, 16383}}}},
	}}
	for _, tt := range tests {
		askedAddr := tt.askedAddr
		if askedAddr == "" {
			askedAddr = asked
		}
		for _, shape := range []struct {
			name  string
			reply resp.Value
		}{{"resp3", tt.reply}, {"resp2", flatten(tt.reply)}} {
			t.Run(tt.name+"/"+shape.name, func(t *testing.T) {
				topo, err := ParseClusterShards(shape.reply, askedAddr)
				require.NoError(t, err)
				requireTopology(t, tt.want, topo)
			})
		}
	}
}

func TestParseClusterShardsErrors(t *testing.T) {
	m := func(id string, port int64) resp.Value { return shardNodeValue(id, "master", bulk("port"), num(port)) }
	tests := []struct {
		name  string
		reply resp.Value
		want  string
	}{
		{"server error", resp.NewSimpleError("ERR unknown subcommand 'SHARDS'"), "server error: ERR unknown subcommand"},
		{"not an array", bulk("x"), "want an array, got bulk"},
		{"shard not a map", arr(num(1)), "shard 0: want a map"},
		{"shard odd flat array", arr(arr(bulk("slots"))), "in pairs"},
		{"shard key not a string", arr(kv(num(1), num(2))), "key: want a string"},
		{"slots not an array", arr(kv(bulk("slots"), num(2))), "slots: want an array"},
		{"slots odd", arr(kv(bulk("slots"), arr(num(1)))), "first and last slots in pairs"},
		{"slot not a number", arr(kv(bulk("slots"), arr(num(1), kv()))), "slots: want an integer"},
		{"slot out of range", arr(shardValue([]int64{0, 20000}, m("a", 1))), "bad slot range 0-20000"},
		{"nodes not an array", arr(kv(bulk("nodes"), bulk("x"))), "nodes: want an array"},
		{"node not a map", arr(kv(bulk("nodes"), arr(num(1)))), "node 0: want a map"},
		{"no nodes", arr(shardValue([]int64{0, 1})), "slots but no master"},
		{"only replicas", arr(shardValue([]int64{0, 1}, shardNodeValue("r", "replica"))), "slots but no master"},
		{"two masters online", arr(shardValue([]int64{0, 1}, m("a", 1), m("b", 2))), "2 masters, 2 of them online"},
		{"two masters failed", arr(shardValue([]int64{0, 1},
			shardNodeValue("a", "master", bulk("health"), bulk("fail")),
			shardNodeValue("b", "master", bulk("port"), num(2), bulk("health"), bulk("fail")))), "2 masters, 0 of them online"},
		{"unknown role", arr(shardValue([]int64{0, 1}, shardNodeValue("a", "leader"))), `unknown role "leader"`},
		{"no role", arr(shardValue([]int64{0, 1}, kv(bulk("id"), bulk("a"), bulk("port"), num(1)))), `unknown role ""`},
		{"no port", arr(shardValue([]int64{0, 1}, kv(bulk("id"), bulk("a"), bulk("ip"), bulk("h"), bulk("role"), bulk("master")))), "neither port nor tls-port"},
		{"bad port", arr(shardValue([]int64{0, 1}, m("a", -5))), "bad port -5"},
		{"bad tls-port", arr(shardValue([]int64{0, 1}, shardNodeValue("a", "master", bulk("tls-port"), bulk("x")))), "tls-port: want an integer"},
		{"id a number", arr(shardValue([]int64{0, 1}, shardNodeValue("a", "master", bulk("id"), num(4)))), "id: want a string"},
		{"health a map", arr(shardValue([]int64{0, 1}, shardNodeValue("a", "master", bulk("health"), kv()))), "health: want a string"},
		{"endpoint a number", arr(shardValue([]int64{0, 1}, shardNodeValue("a", "master", bulk("endpoint"), num(1)))), "endpoint: want a string"},
		{"master of two shards", arr(shardValue([]int64{0, 1}, m("a", 1)), shardValue(nil, m("a", 1))), "leads another shard too"},
		{"replica in two shards", arr(
			shardValue([]int64{0, 1}, m("a", 1), shardNodeValue("r", "replica")),
			shardValue([]int64{2, 3}, m("b", 2), shardNodeValue("r", "replica"))), "two roles or shards"},
		{"master elsewhere a replica", arr(
			shardValue([]int64{0, 1}, m("a", 1), shardNodeValue("b", "replica")),
			shardValue([]int64{2, 3}, m("b", 2))), "both a master and a replica"},
		{"slot served twice", arr(shardValue([]int64{0, 9}, m("a", 1)), shardValue([]int64{9, 12}, m("b", 2))), "slot 9 is served by both"},
	}
	for _, tt := range tests {
		for _, shape := range []struct {
			name  string
			reply resp.Value
		}{{"resp3", tt.reply}, {"resp2", flatten(tt.reply)}} {
			t.Run(tt.name+"/"+shape.name, func(t *testing.T) {
				topo, err := ParseClusterShards(shape.reply, "10.0.0.1:7000")
				require.Error(t, err)
				assert.Nil(t, topo)
				assert.Regexp(t, `^slots: `, err.Error())
				assert.Contains(t, err.Error(), tt.want)
			})
		}
	}
}
