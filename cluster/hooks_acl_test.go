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

// hooksPassword is looked for in every event and log record the ACL test
// records.
const hooksPassword = "hooks-S3cret-pw-9173"

// TestHooksNeverShowThePassword runs a client authenticated as an ACL user
// through a redirect, a refresh, and a node whose user is deleted (its
// connections are closed and its redials refused, so it turns suspect and
// refreshes fail on it), with every hook set and a Debug logger: no event,
// printed with %+v, and no log record holds the password or part of it.
func TestHooksNeverShowThePassword(t *testing.T) {
	ctx := testContext(t, time.Minute)
	cl := redistest.Cluster()
	user := "hooks-" + strings.ReplaceAll(uniqueKey(t, ""), ":", "-")
	for _, n := range cl.Nodes() {
		require.NoError(t, n.AddUser(ctx, user, hooksPassword))
	}
	t.Cleanup(func() {
		for _, n := range cl.Nodes() {
			_, _ = n.Do(context.Background(), "ACL", "DELUSER", user)
		}
	})
	var rec hookRecorder
	c := newTestClient(t, &Options{Hooks: rec.hooks(), Conn: conn.Options{
		Username: user, Password: hooksPassword, Logger: rec.logger(slog.LevelDebug),
	}})

	key := uniqueKey(t, "k")
	slot := int(slots.Slot(key))
	_, err := c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := otherMaster(t, from)
	moveSlotBack(t, slot, from)
	require.NoError(t, cl.MigrateSlot(ctx, slot, to))
	_, err = c.Do(ctx, "GET", key)
	require.NoError(t, err)
	_, err = c.Refresh(ctx)
	require.NoError(t, err)

	// The user goes on the slot's new owner: its connection is closed and
	// can't be made again.
	_, err = to.Do(ctx, "ACL", "DELUSER", user)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = c.Do(short, "GET", key)
	cancel()
	require.Error(t, err)
	rec.waitFor(t, "the node is suspected", func(_ []RedirectEvent, _ []RefreshEvent, nodes []NodeEvent) bool {
		for _, e := range nodes {
			if e.Addr == to.Addr && e.Suspect {
				return true
			}
		}
		return false
	})
	require.NoError(t, to.AddUser(ctx, user, hooksPassword))
	rec.waitFor(t, "the node recovers", func(_ []RedirectEvent, _ []RefreshEvent, nodes []NodeEvent) bool {
		for _, e := range nodes {
			if e.Addr == to.Addr && !e.Suspect {
				return true
			}
		}
		return false
	})

	texts := rec.texts()
	redirects, refreshes, nodes := rec.snapshot()
	require.NotEmpty(t, redirects)
	require.NotEmpty(t, refreshes)
	require.NotEmpty(t, nodes)
	for _, text := range texts {
		require.NotContains(t, text, hooksPassword, "an event or log record shows the password")
		require.NotContains(t, text, hooksPassword[6:], "an event or log record shows part of the password")
		assert.NotContains(t, text, key, "an event or log record shows a key")
	}
	t.Logf("checked %d events and log records, e.g. %q", len(texts), texts[len(texts)-1])
}
