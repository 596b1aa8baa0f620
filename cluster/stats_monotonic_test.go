package cluster

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
)

// counters are the figures of a cluster Stats that must never go down.
func counters(st Stats) []uint64 {
	t := st.Total
	return []uint64{t.Commands, t.Errors, t.Timeouts, t.Dials, t.Redials, t.Closed,
		t.BytesWritten, t.BytesRead, st.Moved, st.Ask, st.Refreshes, st.RefreshErrors}
}

var counterNames = []string{"Commands", "Errors", "Timeouts", "Dials", "Redials", "Closed",
	"BytesWritten", "BytesRead", "Moved", "Ask", "Refreshes", "RefreshErrors"}

// sumNodes returns the counters of st.Nodes added up.
func sumNodes(st Stats) conn.Stats {
	var sum conn.Stats
	for _, ns := range st.Nodes {
		addStats(&sum, ns)
	}
	return sum
}

// TestStatsMonotonicAcrossRetirement reads Stats in a tight loop from
// several goroutines while calls run and the topology moves every slot
// from node to node and back, so that node connections are retired and
// closed all the time: no counter of Total may ever go down between two
// snapshots of one goroutine, and every snapshot's Total holds at least
// its Nodes.
func TestStatsMonotonicAcrossRetirement(t *testing.T) {
	fc := newFakeCluster(t, 3)
	addrs := fc.addrs()
	all := func(addr string) fakeShard { return fakeShard{master: addr, ranges: [][2]int{{0, 16383}}} }
	fc.setTopology(all(addrs[0]))
	c := fc.client(&Options{RefreshInterval: -1})
	ctx := testContext(t, 60*time.Second)

	var stop atomic.Bool
	var wg sync.WaitGroup
	var calls atomic.Int64
	for w := range 3 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if _, err := c.Do(ctx, "GET", "k"+strconv.Itoa(w)+"-"+strconv.Itoa(i)); err == nil {
					calls.Add(1)
				}
			}
		})
	}
	var downs atomic.Int64
	var firstDown atomic.Pointer[string]
	for range 3 {
		wg.Go(func() {
			prev := counters(c.Stats())
			for !stop.Load() {
				st := c.Stats()
				cur := counters(st)
				for i := range cur {
					if cur[i] < prev[i] {
						downs.Add(1)
						msg := counterNames[i] + " went down from " + strconv.FormatUint(prev[i], 10) + " to " + strconv.FormatUint(cur[i], 10)
						firstDown.CompareAndSwap(nil, &msg)
					}
				}
				sum := sumNodes(st)
				if st.Total.Commands < sum.Commands || st.Total.Dials < sum.Dials {
					downs.Add(1)
					msg := "Total holds less than its Nodes"
					firstDown.CompareAndSwap(nil, &msg)
				}
				prev = cur
			}
		})
	}

	const moves = 200
	for i := range moves {
		fc.setTopology(all(addrs[(i+1)%len(addrs)]))
		_, err := c.Refresh(ctx)
		require.NoError(t, err)
	}
	stop.Store(true)
	wg.Wait()

	st := c.Stats()
	t.Logf("%d moves, %d calls answered; total %+v; %d counters seen going down", moves, calls.Load(), st.Total, downs.Load())
	if p := firstDown.Load(); p != nil {
		t.Errorf("first: %s", *p)
	}
	assert.Zero(t, downs.Load(), "no counter of Total goes down between two snapshots")
	assert.GreaterOrEqual(t, st.Total.Commands, uint64(calls.Load()), "every call answered is counted")
	assert.Positive(t, st.Total.Closed, "node connections were closed on the way")
}
