package cluster

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSteadyRefreshFindsNewReplica: with nothing else to prompt it (no
// MOVED, no suspect, no loading replica), the client checks the topology
// by itself and starts reading from a replica that joined. Before, it
// never read the topology again in steady state.
func TestSteadyRefreshFindsNewReplica(t *testing.T) {
	fc := newFakeCluster(t, 2)
	master, replica := fc.addrs()[0], fc.addrs()[1]
	fc.setTopology(fakeShard{master: master, ranges: [][2]int{{0, 16383}}})
	c := fc.client(&Options{ReadReplicas: true, RefreshInterval: 50 * time.Millisecond})
	require.Equal(t, master, c.table.Load().pick(0, true).addr, "no replica yet")

	fc.setTopology(fakeShard{master: master, ranges: [][2]int{{0, 16383}}, replicas: []string{replica}})
	require.Eventually(t, func() bool {
		return c.table.Load().pick(0, true).addr == replica
	}, 5*time.Second, 5*time.Millisecond, "the new replica serves reads")
}

// TestSteadyRefreshAsksOneNode: each periodic check reads the topology
// from one node, not from askAtOnce of them.
func TestSteadyRefreshAsksOneNode(t *testing.T) {
	fc := newFakeCluster(t, 3)
	addrs := fc.addrs()
	fc.setTopology(
		fakeShard{master: addrs[0], ranges: [][2]int{{0, 5000}}},
		fakeShard{master: addrs[1], ranges: [][2]int{{5001, 10000}}},
		fakeShard{master: addrs[2], ranges: [][2]int{{10001, 16383}}},
	)
	c := fc.client(&Options{RefreshInterval: 20 * time.Millisecond})
	var installs atomic.Int64
	start := make(chan int64, 1)
	hook := func() {
		if installs.Add(1) == 1 {
			start <- fc.asked.Load() // the first check's question is counted
		}
	}
	c.afterInstall.Store(&hook)
	require.Eventually(t, func() bool { return installs.Load() >= 10 }, 10*time.Second, time.Millisecond)
	c.afterInstall.Store(nil)
	first := <-start
	n := installs.Load()
	asked := fc.asked.Load() - first + 1
	t.Logf("%d checks asked %d times", n, asked)
	assert.LessOrEqual(t, asked, n+1, "one question per check")
}

func TestRefreshIntervalOption(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setTopology(fakeShard{master: fc.addrs()[0], ranges: [][2]int{{0, 16383}}})
	assert.Equal(t, DefaultRefreshInterval, fc.client(nil).refreshEvery)
	assert.Equal(t, time.Minute, fc.client(&Options{RefreshInterval: time.Minute}).refreshEvery)
	assert.Zero(t, fc.client(&Options{RefreshInterval: -1}).refreshEvery, "negative: off")
}

// TestJittered: the waits between periodic checks spread over [d/2, 3d/2).
func TestJittered(t *testing.T) {
	const d = time.Second
	lo, hi := 2*d, time.Duration(0)
	for range 10000 {
		w := jittered(d)
		require.GreaterOrEqual(t, w, d/2)
		require.Less(t, w, 3*d/2)
		lo, hi = min(lo, w), max(hi, w)
	}
	assert.Less(t, lo, 6*d/10, "draws reach the bottom of the range")
	assert.Greater(t, hi, 14*d/10, "and the top")
}
