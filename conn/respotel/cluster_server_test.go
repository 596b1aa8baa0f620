package respotel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/slots"
)

// newClusterClient is a cluster Client of the package's cluster reporting
// to r, closed when the test ends.
func newClusterClient(t *testing.T, r *recorded) *cluster.Client {
	t.Helper()
	cc, err := cluster.New(testContext(t), &cluster.Options{
		Addrs: redistest.Cluster().Addrs(),
		Conn:  conn.Options{Hooks: r.Hooks()},
		Hooks: r.ClusterHooks(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return cc
}

// slotMasters returns slot's master and another one, and gives the slot
// back to its master when the test ends.
func slotMasters(t *testing.T, slot int) (from, to *redistest.Node) {
	t.Helper()
	cl := redistest.Cluster()
	from, err := cl.MasterOf(testContext(t), slot)
	require.NoError(t, err)
	for _, m := range cl.Masters() {
		if m != from {
			to = m
			break
		}
	}
	require.NotNil(t, to)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		require.NoError(t, cl.MigrateSlot(ctx, slot, from))
	})
	return from, to
}

// TestClusterServerMoved: a GET that meets a MOVED after a real slot
// migration makes a span per node it asked, both under the caller's span,
// which gets a redirect event, and the redirect and the refresh it starts
// are counted.
func TestClusterServerMoved(t *testing.T) {
	r := newRecorded(t)
	ctx := testContext(t)
	cc := newClusterClient(t, r)
	key := uniqueKey(t, "k")
	slot := int(slots.Slot(key))
	_, err := cc.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	cl := redistest.Cluster()
	from, to := slotMasters(t, slot)
	require.NoError(t, cl.MigrateSlot(ctx, slot, to))

	r.spans.Reset()
	callCtx, parent := r.tp.Tracer("test").Start(ctx, "handler")
	v, err := cc.Do(callCtx, "GET", key)
	parent.End()
	require.NoError(t, err)
	got, err := v.Text()
	require.NoError(t, err)
	require.Equal(t, "v", got)

	spans := r.spans.Ended()
	gets := named(spans, "GET")
	require.Len(t, gets, 2, "one span per node asked")
	fromHost, fromPort := serverAttrs(t, from.Addr)
	_, toPort := serverAttrs(t, to.Addr)
	moved, answered := attrMap(gets[0].Attributes()), attrMap(gets[1].Attributes())
	assert.Equal(t, "MOVED", moved["error.type"])
	assert.Equal(t, "MOVED", moved["db.response.status_code"])
	assert.Equal(t, fromHost, moved["server.address"])
	assert.Equal(t, fromPort, moved["server.port"])
	assert.Equal(t, codes.Error, gets[0].Status().Code)
	assert.Equal(t, toPort, answered["server.port"])
	assert.NotContains(t, answered, "error.type")
	for _, s := range gets {
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID())
	}

	handler := named(spans, "handler")
	require.Len(t, handler, 1)
	events := handler[0].Events()
	require.Len(t, events, 1)
	assert.Equal(t, "respwire.redirect", events[0].Name)
	assert.Equal(t, map[string]any{
		"respwire.redirect.kind": "MOVED",
		"db.operation.name":      "GET",
		"respwire.redirect.slot": int64(slot),
		"respwire.redirect.from": from.Addr,
		"respwire.redirect.to":   to.Addr,
	}, attrMap(events[0].Attributes))

	redirects := sumByAttrs(t, r.metric(t, "respwire.cluster.redirects"))
	assert.Len(t, redirects, 1)
	for _, n := range redirects {
		assert.Equal(t, int64(1), n)
	}
	// The MOVED starts a refresh in the background.
	require.Eventually(t, func() bool {
		m, ok := r.lookup(t, "respwire.cluster.refresh.duration")
		if !ok {
			return false
		}
		for _, p := range histogramPoints(t, m) {
			if setMap(p.Attributes)["respwire.refresh.reason"] == "redirect" {
				return true
			}
		}
		return false
	}, testTimeout, 5*time.Millisecond)
}

// TestClusterServerAsk: a GET of a key already moved out of a slot in
// migration meets an ASK, which adds an ASK event to the caller's span and
// is counted; the GET's first span ends with error.type "ASK", and the
// ASKING + GET the cluster sends to the target is a pipeline of two.
func TestClusterServerAsk(t *testing.T) {
	r := newRecorded(t)
	ctx := testContext(t)
	cc := newClusterClient(t, r)
	key := uniqueKey(t, "k")
	slot := int(slots.Slot(key))
	_, err := cc.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	from, to := slotMasters(t, slot)
	m, err := redistest.Cluster().StartMigration(ctx, slot, to)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		require.NoError(t, m.Finish(ctx))
	})
	require.NoError(t, m.MoveKeys(ctx, key))

	r.spans.Reset()
	callCtx, parent := r.tp.Tracer("test").Start(ctx, "handler")
	v, err := cc.Do(callCtx, "GET", key)
	parent.End()
	require.NoError(t, err)
	got, err := v.Text()
	require.NoError(t, err)
	require.Equal(t, "v", got)

	spans := r.spans.Ended()
	handler := named(spans, "handler")
	require.Len(t, handler, 1)
	events := handler[0].Events()
	require.Len(t, events, 1)
	assert.Equal(t, map[string]any{
		"respwire.redirect.kind": "ASK",
		"db.operation.name":      "GET",
		"respwire.redirect.slot": int64(slot),
		"respwire.redirect.from": from.Addr,
		"respwire.redirect.to":   to.Addr,
	}, attrMap(events[0].Attributes))
	var asked bool
	for _, s := range spans {
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID())
		if attrMap(s.Attributes())["error.type"] == "ASK" {
			asked = true
			assert.Equal(t, "GET", s.Name())
		}
	}
	assert.True(t, asked, "the GET that met the ASK is a span with error.type ASK")
	// The cluster sends ASKING and the GET to the target in one DoMulti:
	// a pipeline of two, on the node the ASK named.
	pipelines := named(spans, "PIPELINE")
	require.Len(t, pipelines, 1)
	_, toPort := serverAttrs(t, to.Addr)
	attrs := attrMap(pipelines[0].Attributes())
	assert.Equal(t, int64(2), attrs["db.operation.batch.size"])
	assert.Equal(t, toPort, attrs["server.port"])
	assert.NotContains(t, attrs, "error.type")
	assert.Equal(t, map[string]int64{
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.redirect.kind": "ASK", "db.operation.name": "GET"}): 1,
	}, sumByAttrs(t, r.metric(t, "respwire.cluster.redirects")))
}
