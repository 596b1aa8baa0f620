package slots

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// The replies under testdata/slots were captured from redis-server 7.0.15:
// a 3-master, 3-replica cluster announcing hostnames, with slot 16000 left
// unassigned and the first master serving two ranges ("hostname_gap"), asked
// with cluster-preferred-endpoint-type hostname and unknown-endpoint; the
// same cluster with hostnames cleared and every slot assigned ("plain"); then
// with one replica killed and an empty master added ("failed_replica"); and a
// 3-master cluster with tls-cluster, asked on a plain and on a TLS port
// ("tls"). Each file holds one reply, RESP2 (…_resp2.bin) or RESP3.

const (
	idA  = "793e021195cded2b6480818b58a40bd962100919" // :27101, 0-5000 and 16001-16383
	idB  = "b0029722eacae7dc8963c528e984569c0db3b234" // :27102, 5001-10000
	idC  = "984eca7886373141e534d9f9220900f95181ca5e" // :27103, 10001-15999 (then 16000 too)
	idA1 = "88bdd52dbcb51729f66b8cbba2ee2323a3de7c07" // :27104, replica of A
	idB1 = "46e6e6c6f143cb5e549ff211dad6633ed3a123cb" // :27105, replica of B
	idC1 = "e8e83a31ff8ba25f75d7919c38299dd7e2fa7c7b" // :27106, replica of C
	idE  = "bee2bf627b49e9a2fad2f79993defe277905c388" // :27107, empty master

	idT1 = "df03b22309ceba658143ccd0b8f545350ea7ccdd" // :27201, TLS :27301
	idT2 = "b705d5140c973325605e1ebc0fab8a8fa0e106f0" // :27202, TLS :27302
	idT3 = "8321237e323b393251e29264530777fbecbb746c" // :27203, TLS :27303
)

func master(id, addr, hostname string) Node {
	return Node{ID: id, Addr: addr, Hostname: hostname, Role: RoleMaster, Health: HealthOnline}
}

func replica(id, addr, hostname string) Node {
	return Node{ID: id, Addr: addr, Hostname: hostname, Role: RoleReplica, Health: HealthOnline}
}

// sixNodes is the 3+3 cluster's shards; host gives each node's address host
// and hostname its announced hostname, from its port.
func sixNodes(host, hostname func(port string) string, lastOfC uint16) []Shard {
	n := func(mk func(id, addr, hostname string) Node, id, port string) Node {
		return mk(id, host(port)+":"+port, hostname(port))
	}
	return []Shard{
		{Master: n(master, idA, "27101"), Replicas: []Node{n(replica, idA1, "27104")}, Ranges: [][2]uint16{{0, 5000}, {16001, 16383}}},
		{Master: n(master, idB, "27102"), Replicas: []Node{n(replica, idB1, "27105")}, Ranges: [][2]uint16{{5001, 10000}}},
		{Master: n(master, idC, "27103"), Replicas: []Node{n(replica, idC1, "27106")}, Ranges: [][2]uint16{{10001, lastOfC}}},
	}
}

func loopback(string) string   { return "127.0.0.1" }
func noHostname(string) string { return "" }
func announced(port string) string {
	return "node-" + port + ".example"
}

func TestCapturedReplies(t *testing.T) {
	const asked = "127.0.0.1:27101"
	hostnameGap := sixNodes(loopback, announced, 15999)
	plain := sixNodes(loopback, noHostname, 16000)

	failedSlots := sixNodes(loopback, noHostname, 16000)
	failedSlots[2].Replicas = nil // CLUSTER SLOTS leaves the failed replica out
	failedShards := sixNodes(loopback, noHostname, 16000)
	failedShards[2].Replicas[0].Health = HealthFailed
	failedShards = append(failedShards, Shard{Master: master(idE, "127.0.0.1:27107", "")})

	tlsShards := func(base int) []Shard {
		addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(base+i) }
		return []Shard{
			{Master: master(idT1, addr(1), ""), Ranges: [][2]uint16{{0, 5460}}},
			{Master: master(idT2, addr(2), ""), Ranges: [][2]uint16{{5461, 10922}}},
			{Master: master(idT3, addr(3), ""), Ranges: [][2]uint16{{10923, 16383}}},
		}
	}

	tests := []struct {
		file      string
		askedAddr string
		want      []Shard
		covered   int
	}{
		{"hostname_gap_slots", asked, hostnameGap, 16383},
		{"hostname_gap_shards", asked, hostnameGap, 16383},
		{"endpoint_hostname_slots", asked, sixNodes(announced, announced, 15999), 16383},
		{"endpoint_hostname_shards", asked, sixNodes(announced, announced, 15999), 16383},
		// unknown-endpoint: every node is to be reached on the asked host.
		{"endpoint_unknown_slots", "10.9.8.7:27101", sixNodes(func(string) string { return "10.9.8.7" }, announced, 15999), 16383},
		{"endpoint_unknown_shards", "10.9.8.7:27101", sixNodes(func(string) string { return "10.9.8.7" }, announced, 15999), 16383},
		{"plain_slots", asked, plain, NumSlots},
		{"plain_shards", asked, plain, NumSlots},
		{"failed_replica_slots", asked, failedSlots, NumSlots},
		{"failed_replica_shards", asked, failedShards, NumSlots},
		{"tls_slots", "127.0.0.1:27201", tlsShards(27200), NumSlots},
		{"tls_shards", "127.0.0.1:27201", tlsShards(27200), NumSlots},
		// Asked on a TLS port: CLUSTER SLOTS answers TLS ports, and
		// CLUSTER SHARDS's tls-port fields are chosen over port.
		{"tls_slots_overtls", "127.0.0.1:27301", tlsShards(27300), NumSlots},
		{"tls_shards", "127.0.0.1:27301", tlsShards(27300), NumSlots},
	}
	for _, tt := range tests {
		for _, proto := range []string{"resp2", "resp3"} {
			name := tt.file + "_" + proto
			if name == "tls_slots_overtls_resp2" {
				continue // captured in RESP3 only
			}
			t.Run(name+"@"+tt.askedAddr, func(t *testing.T) {
				topo := parseCapture(t, name, tt.askedAddr)
				requireTopology(t, tt.want, topo)
				assert.Equal(t, tt.covered, topo.Covered())
			})
		}
	}
}

// parseCapture parses testdata/slots/<name>.bin with the parser its name
// calls for.
func parseCapture(t *testing.T, name, askedAddr string) *Topology {
	t.Helper()
	v := readCapture(t, filepath.Join("..", "testdata", "slots", name+".bin"))
	parse := ParseClusterSlots
	if strings.Contains(name, "_shards_") {
		parse = ParseClusterShards
	}
	topo, err := parse(v, askedAddr)
	require.NoError(t, err)
	return topo
}

// readCapture decodes the one reply a captured file holds.
func readCapture(t testing.TB, path string) resp.Value {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	r := resp.NewReader(bytes.NewReader(raw))
	v, err := r.Read()
	require.NoError(t, err)
	_, err = r.Read()
	require.ErrorIs(t, err, io.EOF, "%s holds more than one reply", path)
	return v
}

// requireTopology checks topo's shards and that its slot table agrees with
// their ranges for every slot.
func requireTopology(t *testing.T, want []Shard, topo *Topology) {
	t.Helper()
	require.Equal(t, want, topo.Shards)
	for slot := range uint16(NumSlots) {
		shard, ok := topo.ShardFor(slot)
		wantIdx := -1
		for i, s := range want {
			for _, r := range s.Ranges {
				if slot >= r[0] && slot <= r[1] {
					wantIdx = i
				}
			}
		}
		if wantIdx < 0 {
			require.False(t, ok, "slot %d should be unserved", slot)
			continue
		}
		require.True(t, ok, "slot %d should be served", slot)
		require.Same(t, &topo.Shards[wantIdx], shard, "slot %d", slot)
	}
}
