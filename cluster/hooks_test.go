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
	"github.com/respwire/respwire/slots"
)

func TestRefreshReasonString(t *testing.T) {
	for r, want := range map[RefreshReason]string{
		RefreshRequested: "requested",
		RefreshRedirect:  "redirect",
		RefreshSuspect:   "suspect",
		RefreshSteady:    "steady",
		RefreshLoading:   "loading",
		0:                "RefreshReason(0)",
		99:               "RefreshReason(99)",
	} {
		assert.Equal(t, want, r.String())
	}
}

// TestRedirectHooks moves a slot: the stale client's GET follows a MOVED,
// reported with the command's name, the slot and both nodes, on the
// caller's goroutine (the event is there when Do returns); a batch's
// command reports its own. Then, while the next slot migrates, a key
// already moved is read through an ASK.
func TestRedirectHooks(t *testing.T) {
	var rec hookRecorder
	c := newTestClient(t, &Options{Hooks: rec.hooks(), Conn: conn.Options{Logger: rec.logger(slog.LevelDebug)}})
	batchClient := newTestClient(t, &Options{Hooks: rec.hooks()})
	ctx := testContext(t, 30*time.Second)
	key := uniqueKey(t, "k")
	slot := int(slots.Slot(key))
	_, err := c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	_, err = batchClient.Do(ctx, "GET", key)
	require.NoError(t, err)

	cl := redistest.Cluster()
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := otherMaster(t, from)
	moveSlotBack(t, slot, from)
	require.NoError(t, cl.MigrateSlot(ctx, slot, to))

	v, err := c.Do(ctx, "get", key)
	require.NoError(t, err)
	s, _ := v.Text()
	require.Equal(t, "v", s)
	redirects, _, _ := rec.snapshot()
	require.Len(t, redirects, 1, "reported before Do returned")
	assert.Equal(t, RedirectEvent{Ask: false, Name: "get", Slot: uint16(slot), From: from.Addr, To: to.Addr}, redirects[0])

	replies, err := batchClient.DoMulti(ctx, []string{"PING"}, []string{"GET", key})
	require.NoError(t, err)
	require.NoError(t, replies[1].Err())
	redirects, _, _ = rec.snapshot()
	require.Len(t, redirects, 2)
	assert.Equal(t, RedirectEvent{Name: "GET", Slot: uint16(slot), From: from.Addr, To: to.Addr}, redirects[1])

	// ASK: a slot half migrated, its key already on the target.
	tag := "{" + uniqueKey(t, "ask") + "}"
	askSlot := int(slots.Slot(tag))
	_, err = c.Do(ctx, "SET", tag+"moving", "m")
	require.NoError(t, err)
	askFrom, err := cl.MasterOf(ctx, askSlot)
	require.NoError(t, err)
	askTo := otherMaster(t, askFrom)
	m, err := cl.StartMigration(ctx, askSlot, askTo)
	require.NoError(t, err)
	moveSlotBack(t, askSlot, askFrom)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, m.Finish(ctx))
	})
	require.NoError(t, m.MoveKeys(ctx, tag+"moving"))
	v, err = c.Do(ctx, "GET", tag+"moving")
	require.NoError(t, err)
	s, _ = v.Text()
	require.Equal(t, "m", s)
	redirects, _, _ = rec.snapshot()
	require.Len(t, redirects, 3)
	assert.Equal(t, RedirectEvent{Ask: true, Name: "GET", Slot: uint16(askSlot), From: askFrom.Addr, To: askTo.Addr}, redirects[2])

	st := c.Stats()
	assert.Equal(t, uint64(1), st.Moved)
	assert.Equal(t, uint64(1), st.Ask)

	var debug []string
	for _, l := range rec.logLines() {
		if strings.Contains(l, "redirect followed") {
			debug = append(debug, l)
		}
	}
	require.Len(t, debug, 2, "the client with a logger logs its two redirects at Debug")
	assert.Contains(t, debug[0], "DEBUG")
	assert.Contains(t, debug[0], "kind=MOVED")
	assert.NotContains(t, debug[0], key, "no argument is logged")
	t.Logf("redirects: %+v; log: %q", redirects, debug)
}

// TestRefreshHookRequested: Client.Refresh reports its refresh, with its
// reason and duration, and nothing changed.
func TestRefreshHookRequested(t *testing.T) {
	var rec hookRecorder
	c := newTestClient(t, &Options{Hooks: rec.hooks(), RefreshInterval: -1})
	before := c.Stats().Refreshes
	_, err := c.Refresh(testContext(t, 20*time.Second))
	require.NoError(t, err)
	rec.waitFor(t, "the refresh is reported", func(_ []RedirectEvent, refreshes []RefreshEvent, _ []NodeEvent) bool {
		for _, e := range refreshes {
			if e.Reason == RefreshRequested {
				return true
			}
		}
		return false
	})
	_, refreshes, _ := rec.snapshot()
	e := refreshes[len(refreshes)-1]
	assert.Equal(t, RefreshRequested, e.Reason)
	assert.NoError(t, e.Err)
	assert.Positive(t, e.Duration)
	assert.False(t, e.Changed, "%+v", e)
	assert.Zero(t, e.MovedSlots)
	assert.Empty(t, e.Added)
	assert.Empty(t, e.Removed)
	assert.Greater(t, c.Stats().Refreshes, before)
}

// TestPanickingHooks: hooks that panic on every event don't stop the
// routing: the MOVED is followed and its reply returned, the refresh it
// triggers installs the new owner, and each hook's panic is logged once,
// at Error.
func TestPanickingHooks(t *testing.T) {
	var rec hookRecorder
	hooks := &Hooks{
		Redirect: func(context.Context, RedirectEvent) { panic("redirect hook") },
		Refresh:  func(RefreshEvent) { panic("refresh hook") },
		Node:     func(NodeEvent) { panic("node hook") },
	}
	c := newTestClient(t, &Options{Hooks: hooks, Conn: conn.Options{Logger: rec.logger(slog.LevelInfo)}})
	ctx := testContext(t, 30*time.Second)
	key := uniqueKey(t, "k")
	slot := int(slots.Slot(key))
	_, err := c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	cl := redistest.Cluster()
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := otherMaster(t, from)
	moveSlotBack(t, slot, from)
	require.NoError(t, cl.MigrateSlot(ctx, slot, to))

	for i := range 3 {
		v, err := c.Do(ctx, "GET", key)
		require.NoError(t, err, "call %d", i)
		s, _ := v.Text()
		require.Equal(t, "v", s)
	}
	require.Eventually(t, func() bool {
		sh, ok := c.Topology().ShardFor(uint16(slot))
		return ok && sh.Master.Addr == to.Addr
	}, 10*time.Second, 10*time.Millisecond, "the refresh ran despite its hook")
	_, err = c.Refresh(ctx)
	require.NoError(t, err)
	count := func(hook string) int {
		n := 0
		for _, l := range rec.logLines() {
			if strings.Contains(l, "hook panicked") && strings.Contains(l, "hook="+hook+" ") {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return count("Refresh") == 1 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, count("Redirect"))
	for _, l := range rec.logLines() {
		if strings.Contains(l, "hook panicked") {
			assert.True(t, strings.HasPrefix(l, "ERROR "), l)
			assert.Contains(t, l, "stack=")
		}
	}
	assert.Equal(t, uint64(1), c.Stats().Moved, "a redirect counts although its hook panicked")
}
