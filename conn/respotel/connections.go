package respotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/respwire/respwire/conn"
)

// This file turns Dial, State, Redial and Cache events into metrics.

const (
	closeReasonKey = attribute.Key("respwire.close.reason")
	cacheResultKey = attribute.Key("respwire.cache.result")
	cacheReasonKey = attribute.Key("respwire.cache.reason")
)

func (t *Telemetry) connInstruments(m metric.Meter) error {
	var errs [7]error
	t.opDuration, errs[0] = m.Float64Histogram("db.client.operation.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of database client operations."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.connCount, errs[1] = m.Int64UpDownCounter("db.client.connection.count",
		metric.WithUnit("{connection}"),
		metric.WithDescription("The number of connections that are currently open."))
	t.connCreate, errs[2] = m.Float64Histogram("db.client.connection.create_time",
		metric.WithUnit("s"),
		metric.WithDescription("The time it took to dial a connection and complete its handshake."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.redials, errs[3] = m.Int64Counter("respwire.client.redials",
		metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts of a Client to replace its broken connection."))
	t.closes, errs[4] = m.Int64Counter("respwire.client.connection.closes",
		metric.WithUnit("{connection}"),
		metric.WithDescription("Connections that closed, by why."))
	t.cacheLookup, errs[5] = m.Int64Counter("respwire.client.cache.lookups",
		metric.WithUnit("{lookup}"),
		metric.WithDescription("Client-side cache hits and misses."))
	t.cacheDrops, errs[6] = m.Int64Counter("respwire.client.cache.drops",
		metric.WithUnit("{entry}"),
		metric.WithDescription("Client-side cache entries evicted or invalidated."))
	return errors.Join(errs[:]...)
}

// connAttrs are the attributes of addr's connection metrics, with err's
// error.type when err is not nil.
func (t *Telemetry) connAttrs(addr string, err error, extra ...attribute.KeyValue) metric.MeasurementOption {
	attrs := make([]attribute.KeyValue, 0, 6+len(extra)+len(t.attrs))
	attrs = append(attrs,
		semconv.DBSystemNameRedis,
		semconv.DBClientConnectionPoolName(addr),
		semconv.DBClientConnectionStateUsed,
	)
	attrs = appendServer(attrs, addr)
	if err != nil {
		errType, _ := errorType(err)
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	attrs = append(attrs, extra...)
	attrs = append(attrs, t.attrs...)
	return metric.WithAttributes(attrs...)
}

func (t *Telemetry) dial(ctx context.Context, e conn.DialEvent) {
	t.connCreate.Record(ctx, e.Duration.Seconds(), t.connAttrs(e.Addr, e.Err))
	if e.Err == nil {
		t.connCount.Add(ctx, 1, t.connAttrs(e.Addr, nil))
	}
}

func (t *Telemetry) state(e conn.StateEvent) {
	if e.To != conn.StateClosed {
		return
	}
	ctx := context.Background()
	t.connCount.Add(ctx, -1, t.connAttrs(e.Addr, nil))
	t.closes.Add(ctx, 1, t.connAttrs(e.Addr, nil, closeReasonKey.String(closeReason(e.Cause))))
}

// closeReason says why a Conn closed: "closed" by Close, "silent", or
// "lost" (its socket broke, or the server sent what could not be read).
func closeReason(cause error) string {
	switch {
	case errors.Is(cause, conn.ErrSilent):
		return "silent"
	// Close's cause is ErrClosed itself; a lost Conn's wraps ErrClosed
	// beside the read or write error, so only equality tells them apart.
	case cause == nil || cause == conn.ErrClosed:
		return "closed"
	default:
		return "lost"
	}
}

func (t *Telemetry) redial(e conn.RedialEvent) {
	t.redials.Add(context.Background(), 1, t.connAttrs(e.Addr, e.Err))
}

func (t *Telemetry) cache(e conn.CacheEvent) {
	ctx := context.Background()
	switch e.Kind {
	case conn.CacheHit:
		t.cacheLookup.Add(ctx, 1, t.cacheAttrs(cacheResultKey.String("hit"), semconv.DBOperationName(e.Name)))
	case conn.CacheMiss:
		t.cacheLookup.Add(ctx, 1, t.cacheAttrs(cacheResultKey.String("miss"), semconv.DBOperationName(e.Name)))
	case conn.CacheEviction:
		t.cacheDrops.Add(ctx, int64(e.Entries), t.cacheAttrs(cacheReasonKey.String("eviction")))
	case conn.CacheInvalidation:
		t.cacheDrops.Add(ctx, int64(e.Entries), t.cacheAttrs(cacheReasonKey.String("invalidation")))
	}
}

func (t *Telemetry) cacheAttrs(kvs ...attribute.KeyValue) metric.MeasurementOption {
	return t.withAttrs(append([]attribute.KeyValue{semconv.DBSystemNameRedis}, kvs...)...)
}
