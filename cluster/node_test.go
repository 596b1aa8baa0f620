package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	idle := newNode("idle", nil)
	idle.retire()
	assert.True(t, idle.closed)
	assert.False(t, idle.acquire(), "a retired node takes no call")

	busy := newNode("busy", nil)
	require.True(t, busy.acquire())
	require.True(t, busy.acquire())
	busy.uses.Or(retiredBit) // retire without closeIfDown, which would close a node with no client
	busy.release()
	assert.False(t, busy.closed, "one call still in flight")
	busy.release()
	assert.True(t, busy.closed, "the last call out closed it")
}
