package cluster

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// replicaCluster is a fake shard of one master and two replicas; the
// first replica answers PING after 150 ms.
func replicaCluster(t *testing.T) (fc *fakeCluster, master, slow, fast string) {
	fc = newFakeCluster(t, 3)
	addrs := fc.addrs()
	master, slow, fast = addrs[0], addrs[1], addrs[2]
	fc.setTopology(fakeShard{master: master, ranges: [][2]int{{0, 16383}}, replicas: []string{slow, fast}})
	fc.onCommand(slow, func(c *fakeserver.Conn, cmd []string) bool {
		if !isCommand(cmd, "PING") {
			return false
		}
		select {
		case <-time.After(150 * time.Millisecond): // a far-away replica
		case <-c.Done():
			return true
		}
		_ = c.Reply(resp.NewSimpleString("PONG"))
		return true
	})
	return fc, master, slow, fast
}

func TestReplicaLowestLatency(t *testing.T) {
	fc, _, slow, fast := replicaCluster(t)
	c := fc.client(&Options{ReadReplicas: true, ReplicaPolicy: ReplicaLowestLatency})
	for range 100 {
		require.Equal(t, fast, c.table.Load().pick(42, true).addr, "every read goes to the fast replica")
	}
	ctx := testContext(t, 5*time.Second)
	v, err := c.Do(ctx, "GET", keyForSlot("k", 42))
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, fast, s)
	for _, r := range c.Replicas() {
		assert.Positive(t, r.Latency, r.Addr)
		if r.Addr == slow {
			assert.GreaterOrEqual(t, r.Latency, 100*time.Millisecond)
		}
	}
}

func TestReplicaSelector(t *testing.T) {
	fc, master, slow, _ := replicaCluster(t)
	var seen []Node
	c := fc.client(&Options{ReadReplicas: true, SelectReplica: func(m Node, replicas []Node) int {
		seen = replicas
		for i, r := range replicas {
			if r.Addr == slow { // say, the replica in the caller's zone
				return i
			}
		}
		return -1
	}})
	assert.Equal(t, slow, c.table.Load().pick(42, true).addr)
	require.Len(t, seen, 2, "the online replicas, with their latencies")
	for _, r := range seen {
		assert.Equal(t, master, r.Master)
		assert.Positive(t, r.Latency)
	}

	toMaster := fc.client(&Options{ReadReplicas: true, SelectReplica: func(Node, []Node) int { return -1 }})
	assert.Equal(t, master, toMaster.table.Load().pick(42, true).addr, "-1 keeps reads on the master")
	random := fc.client(&Options{ReadReplicas: true, SelectReplica: func(Node, []Node) int { return 7 }})
	got := map[string]bool{}
	for range 200 {
		got[random.table.Load().pick(42, true).addr] = true
	}
	assert.Len(t, got, 2, "an index out of range: random replicas")
}
