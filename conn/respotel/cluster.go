package respotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/respwire/respwire/cluster"
)

// This file turns cluster.Hooks events into metrics, and a redirect into
// an event on the caller's span.

const (
	redirectKindKey   = attribute.Key("respwire.redirect.kind")
	redirectSlotKey   = attribute.Key("respwire.redirect.slot")
	redirectFromKey   = attribute.Key("respwire.redirect.from")
	redirectToKey     = attribute.Key("respwire.redirect.to")
	refreshReasonKey  = attribute.Key("respwire.refresh.reason")
	refreshChangedKey = attribute.Key("respwire.refresh.changed")
	nodeStateKey      = attribute.Key("respwire.node.state")

	// redirectEvent is the name of the span event a redirect adds.
	redirectEvent = "respwire.redirect"
)

type clusterInstruments struct {
	redirects  metric.Int64Counter
	refreshes  metric.Float64Histogram
	movedSlots metric.Int64Counter
	nodes      metric.Int64Counter
}

func (c *clusterInstruments) init(m metric.Meter) error {
	var errs [4]error
	c.redirects, errs[0] = m.Int64Counter("respwire.cluster.redirects",
		metric.WithUnit("{redirect}"),
		metric.WithDescription("MOVED and ASK replies that a cluster Client followed."))
	c.refreshes, errs[1] = m.Float64Histogram("respwire.cluster.refresh.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of cluster topology refreshes."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	c.movedSlots, errs[2] = m.Int64Counter("respwire.cluster.refresh.moved_slots",
		metric.WithUnit("{slot}"),
		metric.WithDescription("Slots whose master changed, as refreshes found them."))
	c.nodes, errs[3] = m.Int64Counter("respwire.cluster.node.changes",
		metric.WithUnit("{change}"),
		metric.WithDescription("Cluster nodes that became suspect or recovered."))
	return errors.Join(errs[:]...)
}

// ClusterHooks returns a new cluster.Hooks that report to t, for
// cluster.Options.Hooks (its node connections report through Hooks, in
// cluster.Options.Conn.Hooks). It records:
//
//	respwire.cluster.redirects            counter, {redirect}: MOVED and ASK
//	                                      replies followed, by
//	                                      respwire.redirect.kind ("MOVED",
//	                                      "ASK") and db.operation.name
//	respwire.cluster.refresh.duration     histogram, s: topology refreshes, by
//	                                      respwire.refresh.reason
//	                                      ("requested", "redirect", "suspect",
//	                                      "steady"), respwire.refresh.changed
//	                                      and error.type when one failed
//	respwire.cluster.refresh.moved_slots  counter, {slot}: slots whose master
//	                                      a refresh found changed
//	respwire.cluster.node.changes         counter, {change}: nodes that
//	                                      became suspect or recovered, by
//	                                      respwire.node.state ("suspect",
//	                                      "recovered"), server.address and
//	                                      server.port
//
// A redirect also adds an event named "respwire.redirect" to the span in
// the call's context, when it records, with the kind, the slot and the
// addresses it came from and went to: the call's own spans are one per
// node it asked (the first ends with error.type "MOVED" or "ASK"), and the
// event ties them together under the caller's span. Refreshes run in the
// background, for no caller, so they make no span.
func (t *Telemetry) ClusterHooks() *cluster.Hooks {
	return &cluster.Hooks{
		Redirect: t.clusterRedirect,
		Refresh:  t.clusterRefresh,
		Node:     t.clusterNode,
	}
}

func redirectKind(ask bool) string {
	if ask {
		return "ASK"
	}
	return "MOVED"
}

func (t *Telemetry) clusterRedirect(ctx context.Context, e cluster.RedirectEvent) {
	kind := redirectKindKey.String(redirectKind(e.Ask))
	t.cluster.redirects.Add(ctx, 1, t.withAttrs(semconv.DBSystemNameRedis, kind, semconv.DBOperationName(e.Name)))
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(redirectEvent, trace.WithAttributes(
			kind,
			semconv.DBOperationName(e.Name),
			redirectSlotKey.Int(int(e.Slot)),
			redirectFromKey.String(e.From),
			redirectToKey.String(e.To),
		))
	}
}

// refreshReasons name cluster.RefreshReason's values.
var refreshReasons = map[cluster.RefreshReason]string{
	cluster.RefreshRequested: "requested",
	cluster.RefreshRedirect:  "redirect",
	cluster.RefreshSuspect:   "suspect",
	cluster.RefreshSteady:    "steady",
}

func (t *Telemetry) clusterRefresh(e cluster.RefreshEvent) {
	ctx := context.Background()
	reason, ok := refreshReasons[e.Reason]
	if !ok {
		reason = otherErrorType
	}
	attrs := []attribute.KeyValue{
		semconv.DBSystemNameRedis,
		refreshReasonKey.String(reason),
		refreshChangedKey.Bool(e.Changed),
	}
	if e.Err != nil {
		errType, _ := errorType(e.Err)
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	t.cluster.refreshes.Record(ctx, e.Duration.Seconds(), t.withAttrs(attrs...))
	if e.MovedSlots > 0 {
		t.cluster.movedSlots.Add(ctx, int64(e.MovedSlots), t.withAttrs(semconv.DBSystemNameRedis))
	}
}

func (t *Telemetry) clusterNode(e cluster.NodeEvent) {
	state := "recovered"
	if e.Suspect {
		state = "suspect"
	}
	attrs := appendServer([]attribute.KeyValue{semconv.DBSystemNameRedis, nodeStateKey.String(state)}, e.Addr)
	t.cluster.nodes.Add(context.Background(), 1, t.withAttrs(attrs...))
}

// withAttrs is attrs and WithAttributes' as a measurement's attributes.
func (t *Telemetry) withAttrs(attrs ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributes(append(attrs, t.attrs...)...)
}
