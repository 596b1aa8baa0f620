package sentinel

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// logRecorder is a slog.Handler that keeps each record as a line of text.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, b.String())
	r.mu.Unlock()
	return nil
}

func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

// has reports whether some line starts with prefix and holds every one of
// parts.
func (r *logRecorder) has(prefix string, parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return true
		}
	}
	return false
}

func (r *logRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// TestLogsSwitchAndUnreachableSentinel: with Options.Conn.Logger set, a
// SENTINEL FAILOVER the Client follows is logged at Warn with both
// masters, and a sentinel killed (its link lost, its redials refused) is
// logged unreachable at Warn, once.
func TestLogsSwitchAndUnreachableSentinel(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	resetAfter(t)
	var rec logRecorder
	opts := &Options{MasterName: s.MasterName, Addrs: s.SentinelAddrs()}
	opts.Conn.Logger = slog.New(&rec)
	c := newTestClient(t, opts)
	old, err := s.Master(ctx)
	require.NoError(t, err)
	require.True(t, rec.has("DEBUG sentinel: master found", "master="+old.Addr), "%q", rec.all())

	moved := clientSwitches(c)
	to, err := s.Failover(ctx)
	require.NoError(t, err)
	select {
	case <-moved:
	case <-ctx.Done():
		t.Fatal("the Client did not follow the switch")
	}
	assert.True(t, rec.has("WARN sentinel: master switched", "old_master="+old.Addr, "new_master="+to.Addr), "%q", rec.all())

	victim := s.Sentinels[0]
	require.NoError(t, victim.Kill())
	require.Eventually(t, func() bool {
		return rec.has("WARN sentinel: sentinel unreachable", "sentinel="+victim.Addr)
	}, 20*time.Second, 10*time.Millisecond, "%q", rec.all())
	n := 0
	for _, l := range rec.all() {
		if strings.HasPrefix(l, "WARN sentinel: sentinel unreachable") {
			n++
		}
	}
	assert.Equal(t, 1, n, "logged once, not per redial")
	t.Logf("log: %q", rec.all())
}
