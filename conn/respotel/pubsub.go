package respotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/respwire/respwire/pubsub"
)

// This file turns pubsub.Hooks events into metrics.

type pubsubInstruments struct {
	resubscribes metric.Int64Counter
	gaps         metric.Int64Counter
}

func (p *pubsubInstruments) init(m metric.Meter) error {
	var errs [2]error
	p.resubscribes, errs[0] = m.Int64Counter("respwire.pubsub.resubscribes",
		metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts of a Subscriber to restore subscriptions on a new connection."))
	p.gaps, errs[1] = m.Int64Counter("respwire.pubsub.gaps",
		metric.WithUnit("{gap}"),
		metric.WithDescription("Gaps reported: subscriptions that may have missed messages."))
	return errors.Join(errs[:]...)
}

// PubsubHooks returns a new pubsub.Hooks that report to t, for
// pubsub.Options.Hooks (its connections report through Hooks, in the
// conn.Options). It records:
//
//	respwire.pubsub.resubscribes  counter, {attempt}: restorings of a
//	                              node's subscriptions, with server.address,
//	                              server.port and error.type when one failed
//	respwire.pubsub.gaps          counter, {gap}: Gaps queued for Messages(),
//	                              with error.type of the Gap's Cause
func (t *Telemetry) PubsubHooks() *pubsub.Hooks {
	return &pubsub.Hooks{
		Resubscribe: t.pubsubResubscribe,
		Gap:         t.pubsubGap,
	}
}

func (t *Telemetry) pubsubResubscribe(e pubsub.ResubscribeEvent) {
	attrs := appendServer([]attribute.KeyValue{semconv.DBSystemNameRedis}, e.Addr)
	if e.Err != nil {
		errType, _ := errorType(e.Err)
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	t.pubsub.resubscribes.Add(context.Background(), 1, t.withAttrs(attrs...))
}

func (t *Telemetry) pubsubGap(g pubsub.Gap) {
	attrs := []attribute.KeyValue{semconv.DBSystemNameRedis}
	if g.Cause != nil {
		errType, _ := errorType(g.Cause)
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	t.pubsub.gaps.Add(context.Background(), 1, t.withAttrs(attrs...))
}
