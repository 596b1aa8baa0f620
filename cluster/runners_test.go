package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/slots"
)

// TestBatchRunnersAreKept: DoMulti rounds over every master send the other
// masters' batches on runners that stay for the next round, not on a
// goroutine per batch: a runner is made only when none is idle (one may be
// just finishing the previous round's batch), within maxBatchRunners; Close
// ends them.
func TestBatchRunnersAreKept(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	masters := len(c.Topology().Shards)
	require.Greater(t, masters, 1)
	cmds := make([][]string, 0, 3*masters)
	for slot := 0; slot < slots.NumSlots; slot += slots.NumSlots / (3 * masters) {
		cmds = append(cmds, []string{"GET", keyForSlot("runners", slot)})
	}
	for range 20 {
		replies, err := c.DoMulti(ctx, cmds...)
		require.NoError(t, err)
		require.Len(t, replies, len(cmds))
	}
	c.flightMu.Lock()
	running := c.runners.running
	c.flightMu.Unlock()
	assert.GreaterOrEqual(t, running, 1, "the batches the caller does not send go to runners")
	assert.LessOrEqual(t, running, maxBatchRunners)
	require.NoError(t, c.Close())
	c.runners.exited.Wait() // Close waited already: this returns at once
}

// TestCloseEndsBusyRunner: Close returns while a runner sends a batch to a
// node that never answers, with a context that never ends: closing the
// node's connection fails the batch, and the DoMulti returns.
func TestCloseEndsBusyRunner(t *testing.T) {
	fc := newFakeCluster(t, 2)
	a, b := fc.addrs()[0], fc.addrs()[1]
	fc.setTopology(
		fakeShard{master: a, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: b, ranges: [][2]int{{8192, 16383}}},
	)
	var stalled atomic.Int64
	fc.onCommand(b, func(c *fakeserver.Conn, cmd []string) bool {
		stalled.Add(1)
		<-c.Done()
		return true
	})
	c := fc.client(nil)
	errc := make(chan error, 1)
	go func() {
		// a's command first: b's batch goes to a runner.
		_, err := c.DoMulti(context.Background(), []string{"GET", keyForSlot("k", 100)}, []string{"GET", keyForSlot("k", 12000)})
		errc <- err
	}()
	require.Eventually(t, func() bool { return stalled.Load() == 1 }, 10*time.Second, time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a runner stuck on a silent node")
	}
	select {
	case err := <-errc:
		assert.Error(t, err, "the stalled node's batch failed")
	case <-time.After(10 * time.Second):
		t.Fatal("DoMulti did not return after Close")
	}
}
