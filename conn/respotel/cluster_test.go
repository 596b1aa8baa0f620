package respotel

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/pubsub"
)

func TestClusterRedirect(t *testing.T) {
	r := newRecorded(t)
	h := r.ClusterHooks()
	ctx, parent := r.tp.Tracer("test").Start(context.Background(), "handler")
	h.Redirect(ctx, cluster.RedirectEvent{Name: "GET", Slot: 3999, From: "127.0.0.1:7000", To: "127.0.0.1:7001"})
	h.Redirect(ctx, cluster.RedirectEvent{Ask: true, Name: "GET", Slot: 3999, From: "127.0.0.1:7001", To: "127.0.0.1:7002"})
	h.Redirect(context.Background(), cluster.RedirectEvent{Name: "SET", Slot: 1, From: "a:1", To: "b:2"})
	parent.End()

	s := r.ended(t, 1)[0]
	events := s.Events()
	require.Len(t, events, 2, "the redirects under the parent span; the third had none to go on")
	assert.Equal(t, "respwire.redirect", events[0].Name)
	assert.Equal(t, map[string]any{
		"respwire.redirect.kind": "MOVED",
		"db.operation.name":      "GET",
		"respwire.redirect.slot": int64(3999),
		"respwire.redirect.from": "127.0.0.1:7000",
		"respwire.redirect.to":   "127.0.0.1:7001",
	}, attrMap(events[0].Attributes))
	assert.Equal(t, "ASK", attrMap(events[1].Attributes)["respwire.redirect.kind"])

	assert.Equal(t, map[string]int64{
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.redirect.kind": "MOVED", "db.operation.name": "GET"}): 1,
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.redirect.kind": "ASK", "db.operation.name": "GET"}):   1,
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.redirect.kind": "MOVED", "db.operation.name": "SET"}): 1,
	}, sumByAttrs(t, r.metric(t, "respwire.cluster.redirects")))
}

func TestClusterRefreshAndNodes(t *testing.T) {
	r := newRecorded(t)
	h := r.ClusterHooks()
	h.Refresh(cluster.RefreshEvent{Reason: cluster.RefreshRedirect, Duration: 3 * time.Millisecond, Changed: true, MovedSlots: 5})
	h.Refresh(cluster.RefreshEvent{Reason: cluster.RefreshSteady, Duration: time.Millisecond})
	h.Refresh(cluster.RefreshEvent{Reason: cluster.RefreshSuspect, Duration: time.Second, Err: fmt.Errorf("cluster: %w", context.DeadlineExceeded)})
	h.Node(cluster.NodeEvent{Addr: "127.0.0.1:7003", Suspect: true, Cause: errors.New("lost")})
	h.Node(cluster.NodeEvent{Addr: "127.0.0.1:7003"})

	counts := map[string]uint64{}
	m := r.metric(t, "respwire.cluster.refresh.duration")
	assert.Equal(t, "s", m.Unit)
	for _, p := range histogramPoints(t, m) {
		counts[fmt.Sprint(setMap(p.Attributes))] = p.Count
	}
	assert.Equal(t, map[string]uint64{
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.refresh.reason": "redirect", "respwire.refresh.changed": true}): 1,
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.refresh.reason": "steady", "respwire.refresh.changed": false}):  1,
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.refresh.reason": "suspect", "respwire.refresh.changed": false,
			"error.type": "context.DeadlineExceeded"}): 1,
	}, counts)
	assert.Equal(t, map[string]int64{
		fmt.Sprint(map[string]any{"db.system.name": "redis"}): 5,
	}, sumByAttrs(t, r.metric(t, "respwire.cluster.refresh.moved_slots")))
	node := func(state string) string {
		return fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.node.state": state,
			"server.address": "127.0.0.1", "server.port": int64(7003)})
	}
	assert.Equal(t, map[string]int64{node("suspect"): 1, node("recovered"): 1},
		sumByAttrs(t, r.metric(t, "respwire.cluster.node.changes")))
}

func TestPubsubHooks(t *testing.T) {
	r := newRecorded(t)
	h := r.PubsubHooks()
	h.Resubscribe(pubsub.ResubscribeEvent{Addr: "127.0.0.1:7004", Channels: 2, Duration: time.Millisecond})
	h.Resubscribe(pubsub.ResubscribeEvent{Addr: "127.0.0.1:7004", Err: fmt.Errorf("pubsub: %w", conn.ErrClosed)})
	h.Gap(pubsub.Gap{Channels: []string{"news"}, Cause: errors.Join(conn.ErrSilent, conn.ErrClosed)})

	server := map[string]any{"db.system.name": "redis", "server.address": "127.0.0.1", "server.port": int64(7004)}
	failed := map[string]any{"error.type": "conn.ErrClosed"}
	for k, v := range server {
		failed[k] = v
	}
	assert.Equal(t, map[string]int64{fmt.Sprint(server): 1, fmt.Sprint(failed): 1},
		sumByAttrs(t, r.metric(t, "respwire.pubsub.resubscribes")))
	assert.Equal(t, map[string]int64{
		fmt.Sprint(map[string]any{"db.system.name": "redis", "error.type": "conn.ErrSilent"}): 1,
	}, sumByAttrs(t, r.metric(t, "respwire.pubsub.gaps")))
}

func TestNewUsesTheGlobals(t *testing.T) {
	r := newRecorded(t)
	prevTP, prevMP := otel.GetTracerProvider(), otel.GetMeterProvider()
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
	})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(context.Background())) })
	otel.SetTracerProvider(r.tp)
	otel.SetMeterProvider(mp)

	tel, err := New()
	require.NoError(t, err)
	tel.Hooks().Command(context.Background(), conn.CommandEvent{Name: "GET", Addr: "127.0.0.1:1", Start: testStart, Written: true})
	assert.Equal(t, "GET", r.ended(t, 1)[0].Name())
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	assert.Equal(t, ScopeName, rm.ScopeMetrics[0].Scope.Name)
}
