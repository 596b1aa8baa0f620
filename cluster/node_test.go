package cluster

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// TestSlotlessMasterAnswersItsCalls: a refresh that leaves a master without
// slots, while a call waits for that master's reply, doesn't close the
// master under the call. The call gets its reply (MOVED), follows it, and
// succeeds; the master's connection closes after that. Before, the refresh
// closed it and the call failed with "conn: connection closed", not
// SafeToRetry.
func TestSlotlessMasterAnswersItsCalls(t *testing.T) {
	fc := newFakeCluster(t, 2)
	a, b := fc.addrs()[0], fc.addrs()[1]
	fc.setTopology(
		fakeShard{master: a, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: b, ranges: [][2]int{{8192, 16383}}},
	)
	const slot = 12000
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	fc.onCommand(b, func(c *fakeserver.Conn, cmd []string) bool {
		if !isCommand(cmd, "GET") {
			return false
		}
		arrived <- struct{}{}
		select {
		case <-release:
		case <-c.Done():
			return true
		}
		_ = c.Reply(resp.NewSimpleError(fmt.Sprintf("MOVED %d %s", slot, a)))
		return true
	})
	c := fc.client(nil)
	ctx := testContext(t, 10*time.Second)
	key := keyForSlot("k", slot)
	require.Equal(t, slot, int(slots.Slot(key)))

	type result struct {
		v   resp.Value
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := c.Do(ctx, "GET", key)
		done <- result{v, err}
	}()
	select {
	case <-arrived:
	case <-ctx.Done():
		t.Fatal("the GET never reached b")
	}
	old := c.nodes.get(b)
	fc.setTopology(
		fakeShard{master: a, ranges: [][2]int{{0, 16383}}},
		fakeShard{master: b}, // no slots left
	)
	_, err := c.Refresh(ctx)
	require.NoError(t, err)
	assert.True(t, old.retired(), "b left the routing")
	assert.NotNil(t, old.client.Load(), "b stays open while its call waits")
	close(release)

	r := <-done
	require.NoError(t, r.err)
	s, _ := r.v.Text()
	assert.Equal(t, a, s, "the call followed the MOVED to a")
	require.Eventually(t, func() bool { return old.client.Load() == nil }, 5*time.Second, time.Millisecond,
		"b closes once its last call returned")
	assert.NotSame(t, old, c.nodes.get(b), "a later use of b's address gets a new node")
}

// TestRetiredNodeClosesAtOnceWhenIdle: a node dropped from the routing with
// nothing in flight closes right away; a node with calls in flight closes
// with the last one.
func TestRetiredNodeClosesAtOnceWhenIdle(t *testing.T) {
	idle := (&nodeSet{}).newNode("idle")
	idle.retire()
	assert.True(t, idle.closed)
	assert.False(t, idle.acquire(), "a retired node takes no call")

	busy := (&nodeSet{}).newNode("busy")
	require.True(t, busy.acquire())
	require.True(t, busy.acquire())
	busy.uses.Or(retiredBit) // retire without closeIfDown, which would close a node with no client
	busy.release()
	assert.False(t, busy.closed, "one call still in flight")
	busy.release()
	assert.True(t, busy.closed, "the last call out closed it")
}

// blackHoleNode starts a fake server that accepts connections and never
// answers, not even HELLO; helloSeen gets a value each time a HELLO
// arrives. Dialling it takes the whole dial timeout.
func blackHoleNode(t *testing.T) (addr string, helloSeen <-chan struct{}) {
	seen := make(chan struct{}, 16)
	s := fakeserver.Start(t)
	s.Handle(func(c *fakeserver.Conn, cmd []string) {
		if isCommand(cmd, "HELLO") {
			select {
			case seen <- struct{}{}:
			default:
			}
		}
		<-c.Done()
	})
	return s.Addr(), seen
}

// TestCloseDoesNotWaitForADial: Close while a node's dial is stuck (the
// node accepted the connection and never answers the handshake) returns at
// once, and the call waiting for that dial ends with an error. Before, Close
// waited for the dial's semaphore: the whole dial timeout.
func TestCloseDoesNotWaitForADial(t *testing.T) {
	fc := newFakeCluster(t, 1)
	hole, helloSeen := blackHoleNode(t)
	fc.setTopology(
		fakeShard{master: fc.addrs()[0], ranges: [][2]int{{0, 8191}}},
		fakeShard{master: hole, ranges: [][2]int{{8192, 16383}}},
	)
	c := fc.client(&Options{Conn: conn.Options{DialTimeout: 5 * time.Second}})
	ctx := testContext(t, 10*time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "GET", keyForSlot("k", 12000))
		done <- err
	}()
	select {
	case <-helloSeen:
	case <-ctx.Done():
		t.Fatal("the dial never reached the node")
	}
	start := time.Now()
	require.NoError(t, c.Close())
	took := time.Since(start)
	t.Logf("Close took %v", took)
	assert.Less(t, took, time.Second, "Close waited for the dial")
	select {
	case err := <-done:
		require.Error(t, err)
		assert.ErrorIs(t, err, conn.ErrClosed)
	case <-time.After(time.Second):
		t.Fatal("the call waiting for the dial still waits after Close")
	}
}

// TestRefreshDoesNotWaitForADial: a refresh that drops a node whose dial is
// stuck installs the new routing at once; the call that waited for the dial
// is routed afresh and succeeds at the new owner. Before, the refresh
// waited for the dial's semaphore, a whole dial timeout, and so did the
// call.
func TestRefreshDoesNotWaitForADial(t *testing.T) {
	fc := newFakeCluster(t, 1)
	a := fc.addrs()[0]
	hole, helloSeen := blackHoleNode(t)
	fc.setTopology(
		fakeShard{master: a, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: hole, ranges: [][2]int{{8192, 16383}}},
	)
	c := fc.client(&Options{Conn: conn.Options{DialTimeout: 5 * time.Second}})
	ctx := testContext(t, 10*time.Second)
	type result struct {
		v   resp.Value
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := c.Do(ctx, "GET", keyForSlot("k", 12000))
		done <- result{v, err}
	}()
	select {
	case <-helloSeen:
	case <-ctx.Done():
		t.Fatal("the dial never reached the node")
	}
	fc.setTopology(fakeShard{master: a, ranges: [][2]int{{0, 16383}}})
	start := time.Now()
	_, err := c.Refresh(ctx)
	require.NoError(t, err)
	took := time.Since(start)
	t.Logf("Refresh took %v", took)
	assert.Less(t, took, time.Second, "the refresh waited for the dial")
	select {
	case r := <-done:
		require.NoError(t, r.err)
		s, _ := r.v.Text()
		assert.Equal(t, a, s)
	case <-time.After(2 * time.Second):
		t.Fatal("the call that waited for the dropped node's dial still waits")
	}
}

// TestMovedDuringInstallGetsALiveNode: a MOVED that lands while a refresh
// installs a table without its node (between the table swap and the
// retiring of the dropped nodes) routes the slot to a live node for the
// address, never to the one being closed. Before, install dropped nodes
// after releasing the table lock: the MOVED picked the old node from the
// set, which retain then closed, and calls to the slot bounced off it
// until the next refresh.
func TestMovedDuringInstallGetsALiveNode(t *testing.T) {
	fc := newFakeCluster(t, 2)
	a, b := fc.addrs()[0], fc.addrs()[1]
	fc.setTopology(
		fakeShard{master: a, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: b, ranges: [][2]int{{8192, 16383}}},
	)
	c := fc.client(nil)
	ctx := testContext(t, 10*time.Second)
	const slot = 12000
	_, err := c.Do(ctx, "GET", keyForSlot("k", slot))
	require.NoError(t, err)
	old := c.nodes.get(b)
	require.NotNil(t, old.client.Load())

	fc.setTopology(fakeShard{master: a, ranges: [][2]int{{0, 16383}}})
	hook := func() { c.moved(slot, b) } // a MOVED sent before the change
	c.afterInstall.Store(&hook)
	_, err = c.Refresh(ctx)
	c.afterInstall.Store(nil)
	require.NoError(t, err)

	routed := c.table.Load().pick(slot, false)
	require.Equal(t, b, routed.addr, "the MOVED routed the slot to b")
	assert.NotSame(t, old, routed, "a fresh node for b, not the one being retired")
	assert.False(t, routed.retired())
	v, err := routed.get(ctx)
	require.NoError(t, err, "the routed node can be used")
	require.NotNil(t, v)
}

// TestSilentNodeClosedThenReplaced covers what happens after conn's
// liveness closes a connection that went silent: the node's connection is
// down, the client suspects it, reads the topology, and calls to its slots
// go to the node that took them over, while calls to other nodes never
// notice. Here the fake node stops answering and then its connections are
// closed (as the liveness check would) and it refuses new ones; the
// topology then gives its slots to the other master.
func TestSilentNodeClosedThenReplaced(t *testing.T) {
	fc := newFakeCluster(t, 2)
	a, b := fc.addrs()[0], fc.addrs()[1]
	fc.setTopology(
		fakeShard{master: a, ranges: [][2]int{{0, 8191}}},
		fakeShard{master: b, ranges: [][2]int{{8192, 16383}}},
	)
	var silent atomic.Bool
	var held atomic.Int64 // commands the silent node took and never answered
	fc.onCommand(b, func(c *fakeserver.Conn, cmd []string) bool {
		if !silent.Load() {
			return false
		}
		held.Add(1)
		<-c.Done()
		return true
	})
	c := fc.client(nil)
	ctx := testContext(t, 20*time.Second)
	aKey, bKey := keyForSlot("k", 100), keyForSlot("k", 12000)
	_, err := c.Do(ctx, "GET", bKey)
	require.NoError(t, err)

	silent.Store(true)
	inFlight := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "GET", bKey)
		inFlight <- err
	}()
	// The GET has reached the silent node (written, so it can't be
	// retried elsewhere) and is still waiting for its reply.
	require.Eventually(t, func() bool { return held.Load() == 1 && len(inFlight) == 0 }, 5*time.Second, time.Millisecond)
	v, err := c.Do(ctx, "GET", aKey)
	require.NoError(t, err, "another node's calls are unaffected")
	s, _ := v.Text()
	require.Equal(t, a, s)

	fc.setTopology(fakeShard{master: a, ranges: [][2]int{{0, 16383}}})
	closedAt := time.Now()
	require.NoError(t, fc.nodes[b].server.Close()) // the liveness close, and b is gone
	err = <-inFlight
	require.ErrorIs(t, err, conn.ErrClosed, "the call written to the silent node fails with its connection")

	var resumed time.Duration
	require.Eventually(t, func() bool {
		call, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		v, err := c.Do(call, "GET", bKey)
		s, _ := v.Text()
		if err != nil || s != a {
			return false
		}
		resumed = time.Since(closedAt)
		return true
	}, 10*time.Second, time.Millisecond)
	t.Logf("calls to the lost node's slots succeeded again %v after its connection closed", resumed.Round(time.Millisecond))
	assert.Less(t, resumed, time.Second)
}
