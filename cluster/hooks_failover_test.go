package cluster

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// TestFailoverHooks kills a master while a caller writes to its slot: the
// node is reported suspect (with the broken connection as the cause), a
// refresh reports the failover (Changed, the shard's slots moved, its
// reason), the log says the master changed, and once the dead node is out
// of the routing it is reported recovered.
func TestFailoverHooks(t *testing.T) {
	var rec hookRecorder
	c := newTestClient(t, &Options{Hooks: rec.hooks(), Conn: conn.Options{Logger: rec.logger(slog.LevelInfo)}})
	ctx := testContext(t, 2*time.Minute)
	cl := redistest.Cluster()
	const victimSlot = 7000
	victim, err := cl.MasterOf(ctx, victimSlot)
	require.NoError(t, err)
	replica, err := cl.ReplicaOf(ctx, victim)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if !victim.Running() {
			assert.NoError(t, victim.Restart(ctx))
		}
		assert.NoError(t, cl.WaitHealthy(ctx))
	})
	key := keyForSlot(uniqueKey(t, ""), victimSlot)
	_, err = c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	victimSlots := 0
	for _, s := range c.Masters() {
		if s.Addr == victim.Addr {
			for _, r := range s.Slots {
				victimSlots += int(r[1]-r[0]) + 1
			}
		}
	}
	require.Positive(t, victimSlots)

	require.NoError(t, victim.Kill())
	require.Eventually(t, func() bool {
		probe, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := c.Do(probe, "SET", key, "v")
		return err == nil
	}, 60*time.Second, 10*time.Millisecond, "writes resume on the promoted replica")

	rec.waitFor(t, "the victim is suspected, then recovers", func(_ []RedirectEvent, _ []RefreshEvent, nodes []NodeEvent) bool {
		suspected := false
		for _, e := range nodes {
			if e.Addr == victim.Addr && e.Suspect {
				suspected = true
			}
			if e.Addr == victim.Addr && !e.Suspect && suspected {
				return true
			}
		}
		return false
	})
	_, refreshes, nodes := rec.snapshot()
	for _, e := range nodes {
		if e.Addr == victim.Addr && e.Suspect {
			assert.Error(t, e.Cause, "a suspicion says why")
			break
		}
	}
	var failover *RefreshEvent
	for i, e := range refreshes {
		if e.Changed && e.MovedSlots > 0 {
			failover = &refreshes[i]
			break
		}
	}
	require.NotNil(t, failover, "a refresh reported the failover: %+v", refreshes)
	assert.NoError(t, failover.Err)
	assert.Equal(t, victimSlots, failover.MovedSlots, "the victim's slots moved to its replica")
	assert.Contains(t, []RefreshReason{RefreshSuspect, RefreshRedirect}, failover.Reason)
	assert.Contains(t, failover.Removed, victim.Addr, "the dead master left the routing")
	assert.Positive(t, failover.Duration)

	var warned bool
	for _, l := range rec.logLines() {
		if strings.HasPrefix(l, "WARN cluster: master changed") && strings.Contains(l, "old_master="+victim.Addr) &&
			strings.Contains(l, "new_master="+replica.Addr) {
			warned = true
		}
	}
	assert.True(t, warned, "the failover is logged at Warn: %q", rec.logLines())
	// A probe that ran out of its 200 ms on a loaded machine may have made
	// another node suspect meanwhile: it clears once it answers a PING.
	assert.Eventually(t, func() bool { return c.Stats().Suspects == 0 }, 30*time.Second, 10*time.Millisecond,
		"no node stays suspect")
	t.Logf("failover refresh: %+v; node events: %+v", *failover, nodes)
}
