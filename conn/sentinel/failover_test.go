package sentinel

import (
	"testing"
	"time"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadGoroutines is how many goroutines the failover tests write from.
const loadGoroutines = 32

// TestFailoverUnderLoad: SENTINEL FAILOVER while 32 goroutines write.
// Calls succeed again within 1 s of the first +switch-master; no call
// hangs; every call started after the Client saw the switch succeeds, and
// its key is on the new master (a write that reached the old master, still
// a master itself for seconds after the switch, would be missing there).
func TestFailoverUnderLoad(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	resetAfter(t)
	c := newTestClient(t, nil)
	moved := clientSwitches(c)
	old, err := s.Master(ctx)
	require.NoError(t, err)
	require.Equal(t, old.Addr, c.MasterAddr())
	w := watchSwitches(t)

	l := startLoad(c, loadGoroutines, "failover")
	l.successAfter(t, ctx)
	require.NoError(t, s.StartFailover(ctx))
	announced, to := w.wait(t, ctx)
	var sawSwitch time.Time
	select {
	case sawSwitch = <-moved:
	case <-ctx.Done():
		t.Fatal("the Client did not follow the switch")
	}
	l.successAfter(t, ctx)
	for range 20 { // more load on the new master
		l.successAfter(t, ctx)
	}
	calls := l.stop()

	r := report(calls, sawSwitch)
	firstOK := report(calls, announced).firstOK
	t.Logf("%d calls, %d failed; Client moved %v after the announcement; first write done %v after it; longest call %v",
		r.calls, r.failures, sawSwitch.Sub(announced).Round(time.Microsecond), firstOK.Round(time.Microsecond), r.longest.Round(time.Microsecond))
	assert.Equal(t, to, c.MasterAddr())
	assert.NotEqual(t, old.Addr, to)
	assert.GreaterOrEqual(t, firstOK, time.Duration(0), "no write succeeded after the announcement")
	assert.Less(t, firstOK, time.Second)
	assert.Empty(t, r.failedAfter, "calls started after the Client saw the switch failed")
	r.assertNoHang(t, 5*time.Second)
	assertOnMaster(t, ctx, s.Node(to), r.okAfter)
	// While the old master is still one, it holds none of those keys.
	if info, err := old.Info(ctx, "replication"); err == nil && info["role"] == "master" && len(r.okAfter) > 0 {
		v, err := old.Do(ctx, "EXISTS", r.okAfter[0], r.okAfter[len(r.okAfter)-1])
		require.NoError(t, err)
		n, _ := v.Int()
		assert.Zero(t, n, "a write reached the old master after the switch")
	}
}

// TestMasterKilledUnderLoad: the master is SIGKILLed while 32 goroutines
// write. The sentinels need down-after-milliseconds and an election to
// replace it; the Client writes again within 1 s of their announcement,
// and no call hangs.
func TestMasterKilledUnderLoad(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	resetAfter(t)
	c := newTestClient(t, nil)
	w := watchSwitches(t)

	l := startLoad(c, loadGoroutines, "killed")
	l.successAfter(t, ctx)
	killed, err := s.KillMaster(ctx)
	require.NoError(t, err)
	killedAt := time.Now()
	announced, to := w.wait(t, ctx)
	l.successAfter(t, ctx)
	for range 20 { // more load on the new master
		l.successAfter(t, ctx)
	}
	calls := l.stop()

	r := report(calls, killedAt)
	failover := announced.Sub(killedAt)
	t.Logf("%d calls, %d failed; switch announced %v after the kill (down-after %v); first write done %v after the kill, %v after the announcement; longest call %v",
		r.calls, r.failures, failover.Round(time.Millisecond), redistest.DefaultDownAfter, r.firstOK.Round(time.Millisecond),
		(r.firstOK - failover).Round(time.Microsecond), r.longest.Round(time.Millisecond))
	assert.NotEqual(t, killed.Addr, to)
	assert.Equal(t, to, c.MasterAddr())
	require.GreaterOrEqual(t, r.firstOK, time.Duration(0), "no write succeeded after the kill")
	assert.Less(t, r.firstOK, failover+time.Second)
	// Calls wait for the new master, within their contexts (a failover
	// after a split vote takes longer than callTimeout).
	r.assertNoHang(t, failover+2*time.Second)
	assertOnMaster(t, ctx, s.Node(to), report(calls, announced).okAfter)
}

// TestSentinelsDownMasterFine: every sentinel is killed while the master
// runs; calls go on uninterrupted, even across a redial (CLIENT KILL on the
// master), and the Client follows a switch once the sentinels are back.
func TestSentinelsDownMasterFine(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	resetAfter(t)
	c := newTestClient(t, nil)
	master, err := s.Master(ctx)
	require.NoError(t, err)

	l := startLoad(c, loadGoroutines, "nosentinels")
	l.successAfter(t, ctx)
	for _, sn := range s.Sentinels {
		require.NoError(t, sn.Kill())
	}
	downAt := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for linksUp(c) > 0 && time.Now().Before(deadline) {
		l.successAfter(t, ctx) // polled: the links' end is not signalled
	}
	require.Zero(t, linksUp(c), "the Client did not notice the sentinels went away")
	for range 1000 {
		l.successAfter(t, ctx)
	}
	calls := l.stop()
	r := report(calls, time.Time{})
	t.Logf("%d calls, %d failed, longest %v, in %v without sentinels", r.calls, r.failures, r.longest.Round(time.Microsecond), time.Since(downAt).Round(time.Millisecond))
	assert.Zero(t, r.failures)
	r.assertNoHang(t, time.Second)

	// A redial while no sentinel answers goes back to the master it knew.
	_, err = master.Do(ctx, "CLIENT", "KILL", "TYPE", "normal")
	require.NoError(t, err)
	if _, err = c.Do(ctx, "SET", "nosentinels", "1"); err != nil {
		// Written on the killed connection before the Client saw it die.
		require.ErrorContains(t, err, "connection lost")
		_, err = c.Do(ctx, "SET", "nosentinels", "1")
	}
	require.NoError(t, err)
	assert.Equal(t, master.Addr, c.MasterAddr())

	for _, sn := range s.Sentinels {
		require.NoError(t, sn.Restart(ctx))
	}
	require.NoError(t, s.WaitHealthy(ctx))
	moved := clientSwitches(c)
	next, err := s.Failover(ctx)
	require.NoError(t, err)
	select {
	case <-moved:
	case <-time.After(30 * time.Second):
		t.Fatal("the Client did not follow a switch after the sentinels came back")
	}
	assert.Equal(t, next.Addr, c.MasterAddr())
	_, err = c.Do(ctx, "SET", "after-sentinels", "1")
	require.NoError(t, err)
}

// linksUp counts the Client's sentinel links that are connected.
func linksUp(c *Client) int {
	n := 0
	for _, addr := range c.Sentinels() {
		if c.dir.linkConn(addr) != nil {
			n++
		}
	}
	return n
}
