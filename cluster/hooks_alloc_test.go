package cluster

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
)

// TestHooksAllocations: a cluster GET costs one allocation (its value)
// with no hooks, and still one with no-op conn and cluster hooks and an
// Info logger, through Do and DoCmd, since nothing on the routing path
// reports unless a redirect or a refresh happens.
func TestHooksAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	ctx := testContext(t, 30*time.Second)
	key := uniqueKey(t, "k")
	allocs := func(opts *Options) (do, doCmd float64) {
		c := newTestClient(t, opts)
		_, err := c.Do(ctx, "SET", key, "0123456789abcdef")
		require.NoError(t, err)
		do = testing.AllocsPerRun(200, func() {
			if _, err := c.Do(ctx, "GET", key); err != nil {
				t.Fatal(err)
			}
		})
		doCmd = testing.AllocsPerRun(200, func() {
			if _, err := c.DoCmd(ctx, conn.Cmd("GET", key)); err != nil {
				t.Fatal(err)
			}
		})
		return do, doCmd
	}
	do, doCmd := allocs(&Options{RefreshInterval: -1})
	hooked := &Options{RefreshInterval: -1, Hooks: &Hooks{
		Redirect: func(context.Context, RedirectEvent) {},
		Refresh:  func(RefreshEvent) {},
		Node:     func(NodeEvent) {},
	}}
	hooked.Conn.Hooks = &conn.Hooks{
		Command:  func(context.Context, conn.CommandEvent) {},
		Pipeline: func(context.Context, conn.PipelineEvent) {},
		Dial:     func(context.Context, conn.DialEvent) {},
		State:    func(conn.StateEvent) {},
		Redial:   func(conn.RedialEvent) {},
		Cache:    func(conn.CacheEvent) {},
	}
	hooked.Conn.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	hookedDo, hookedDoCmd := allocs(hooked)
	t.Logf("allocs per cluster GET without hooks: Do %v, DoCmd %v; with no-op hooks and a logger: %v, %v",
		do, doCmd, hookedDo, hookedDoCmd)
	assert.LessOrEqual(t, do, 1.0)
	assert.LessOrEqual(t, doCmd, 1.0)
	assert.LessOrEqual(t, hookedDo, 1.0)
	assert.LessOrEqual(t, hookedDoCmd, 1.0)
}
