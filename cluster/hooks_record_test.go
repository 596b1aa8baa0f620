package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hookRecorder keeps every event a Client's Hooks report, and every record
// its logger gets, for the tests to look at.
type hookRecorder struct {
	mu        sync.Mutex
	redirects []RedirectEvent
	refreshes []RefreshEvent
	nodes     []NodeEvent
	logs      []string // each record: level, message and attributes, as text
}

func (r *hookRecorder) hooks() *Hooks {
	return &Hooks{
		Redirect: func(_ context.Context, e RedirectEvent) {
			r.mu.Lock()
			r.redirects = append(r.redirects, e)
			r.mu.Unlock()
		},
		Refresh: func(e RefreshEvent) {
			r.mu.Lock()
			r.refreshes = append(r.refreshes, e)
			r.mu.Unlock()
		},
		Node: func(e NodeEvent) {
			r.mu.Lock()
			r.nodes = append(r.nodes, e)
			r.mu.Unlock()
		},
	}
}

// logger returns a logger, at level, whose records the recorder keeps.
func (r *hookRecorder) logger(level slog.Level) *slog.Logger {
	return slog.New(&recordHandler{r: r, level: level})
}

func (r *hookRecorder) snapshot() (redirects []RedirectEvent, refreshes []RefreshEvent, nodes []NodeEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(redirects, r.redirects...), append(refreshes, r.refreshes...), append(nodes, r.nodes...)
}

func (r *hookRecorder) logLines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logs...)
}

// texts returns every event, as %+v prints it, and every log record.
func (r *hookRecorder) texts() []string {
	redirects, refreshes, nodes := r.snapshot()
	var out []string
	for _, e := range redirects {
		out = append(out, fmt.Sprintf("%+v", e))
	}
	for _, e := range refreshes {
		out = append(out, fmt.Sprintf("%+v", e))
	}
	for _, e := range nodes {
		out = append(out, fmt.Sprintf("%+v", e))
	}
	return append(out, r.logLines()...)
}

// waitFor polls until cond holds of the recorder's events.
func (r *hookRecorder) waitFor(t *testing.T, what string, cond func(redirects []RedirectEvent, refreshes []RefreshEvent, nodes []NodeEvent) bool) {
	t.Helper()
	require.Eventually(t, func() bool { return cond(r.snapshot()) }, 60*time.Second, 10*time.Millisecond, what)
}

// recordHandler is a slog.Handler that writes each record, attributes
// included, as one line into a hookRecorder.
type recordHandler struct {
	r     *hookRecorder
	level slog.Level
	attrs []slog.Attr
}

func (h *recordHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *recordHandler) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.r.mu.Lock()
	h.r.logs = append(h.r.logs, b.String())
	h.r.mu.Unlock()
	return nil
}

func (h *recordHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recordHandler{r: h.r, level: h.level, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

func (h *recordHandler) WithGroup(string) slog.Handler { return h }
