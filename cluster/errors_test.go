package cluster

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnreachableMasterErrorNamesIt: a call to the slots of a master that
// refuses connections ends with its context, and its error names the node
// and the dial error, not a bare "context deadline exceeded". So does a
// DoMulti's, which still returns the replies of the reachable master.
func TestUnreachableMasterErrorNamesIt(t *testing.T) {
	fc := newFakeCluster(t, 1)
	up, down := fc.addrs()[0], deadAddr(t)
	fc.setTopology(
		fakeShard{master: up, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: down, ranges: [][2]int{{8192, 16383}}},
	)
	c := fc.client(nil)
	upKey, downKey := keyForSlot("k", 100), keyForSlot("k", 12000)

	check := func(err error, took time.Duration) {
		t.Helper()
		require.Error(t, err)
		t.Logf("error: %v", err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), down, "the error names the node")
		assert.Contains(t, err.Error(), "connection refused", "the error says why")
		assert.Less(t, took, 3*time.Second)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	start := time.Now()
	_, err := c.Do(ctx, "GET", downKey)
	cancel()
	check(err, time.Since(start))

	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	start = time.Now()
	replies, err := c.DoMulti(ctx, []string{"GET", upKey}, []string{"GET", downKey})
	cancel()
	check(err, time.Since(start))
	require.Len(t, replies, 2)
	s, _ := replies[0].Text()
	assert.Equal(t, up, s, "the reachable master's reply is there")
}

// TestDownNodeErrorSaysWhy: once a node the client was connected to goes
// away, a call to its slots waits for the redial until its context ends;
// the error names the node, says its connection is down and why.
func TestDownNodeErrorSaysWhy(t *testing.T) {
	fc := newFakeCluster(t, 2)
	a, b := fc.addrs()[0], fc.addrs()[1]
	fc.setTopology(
		fakeShard{master: a, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: b, ranges: [][2]int{{8192, 16383}}},
	)
	c := fc.client(nil)
	bKey := keyForSlot("k", 12000)
	ctx := testContext(t, 10*time.Second)
	_, err := c.Do(ctx, "GET", bKey)
	require.NoError(t, err)
	bClient := c.nodes.get(b).client.Load()
	require.NotNil(t, bClient)

	require.NoError(t, fc.nodes[b].server.Close())
	require.Eventually(t, func() bool { return !bClient.Connected() }, 5*time.Second, time.Millisecond)

	call, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err = c.Do(call, "GET", bKey)
	require.Error(t, err)
	t.Logf("error: %v", err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), b)
	assert.Contains(t, err.Error(), "connection down")
	assert.Contains(t, err.Error(), "connection refused")
	var ce *callError
	assert.True(t, errors.As(err, &ce))
}

// TestFailedMasterFailsFast: a master the cluster reports failed, with no
// replica to take over its slots, is not waited for: a call to its slots
// fails at once, even with a context that never ends, with an error naming
// the node and its state. Before, it was retried for about 5 s (a
// black-holed node: up to a dial timeout per try).
func TestFailedMasterFailsFast(t *testing.T) {
	fc := newFakeCluster(t, 1)
	up, failed := fc.addrs()[0], deadAddr(t)
	fc.setTopology(
		fakeShard{master: up, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: failed, health: "failed", ranges: [][2]int{{8192, 16383}}},
	)
	c := fc.client(nil)
	upKey, failedKey := keyForSlot("k", 100), keyForSlot("k", 12000)

	ctx := testContext(t, 10*time.Second)
	start := time.Now()
	_, err := c.Do(ctx, "GET", failedKey)
	took := time.Since(start)
	require.Error(t, err)
	t.Logf("error after %v: %v", took, err)
	assert.Contains(t, err.Error(), failed)
	assert.Contains(t, err.Error(), "reported failed")
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, time.Second)

	start = time.Now()
	replies, err := c.DoMulti(ctx, []string{"GET", upKey}, []string{"GET", failedKey})
	require.Error(t, err)
	assert.Contains(t, err.Error(), failed)
	assert.Less(t, time.Since(start), time.Second)
	s, _ := replies[0].Text()
	assert.Equal(t, up, s)

	// A failed master with a live replica is waited for: a failover is
	// coming.
	fc.setTopology(
		fakeShard{master: up, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: failed, health: "failed", ranges: [][2]int{{8192, 16383}}, replicas: []string{deadAddr(t)}},
	)
	_, err = c.Refresh(ctx)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = c.Do(short, "GET", failedKey)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "waited for the failover")

	// Once the topology reports the shard's slots on a live master, calls
	// go there: the failed master made the client poll the topology.
	fc.setTopology(fakeShard{master: up, ranges: [][2]int{{0, 16383}}})
	require.Eventually(t, func() bool {
		v, err := c.Do(ctx, "GET", failedKey)
		s, _ := v.Text()
		return err == nil && s == up
	}, 5*time.Second, 10*time.Millisecond)
}

// TestNeverSentErrorsAreSafeToRetry: cluster's errors for calls that never
// left answer conn.SafeToRetry for themselves, and a call that timed out on
// a node answers for its own error, not for the node's earlier dial failure.
func TestNeverSentErrorsAreSafeToRetry(t *testing.T) {
	dialFailed := &nodeError{addr: "127.0.0.1:1", err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"node not reached", dialFailed, true},
		{"failed master", &failedNodeError{addr: "127.0.0.1:1"}, true},
		{"timed out on a node that failed to dial before", &callError{addr: "127.0.0.1:1", state: "x", err: context.DeadlineExceeded, cause: dialFailed}, false},
		{"unsent on a node", &callError{addr: "127.0.0.1:1", state: "x", err: dialFailed}, true},
		{"context ended waiting to retry an unsent call", withCause(context.DeadlineExceeded, dialFailed), true},
		{"cross-slot refusal", crossSlot("MGET"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, conn.SafeToRetry(tt.err), tt.name)
	}
}
