package respotel

import (
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/respwire/respwire/conn"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/respwire/respwire/conn/respotel"

// durationBuckets are the bucket boundaries, in seconds, that the database
// conventions advise for db.client.operation.duration.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// Telemetry turns respwire's hook events into spans and metrics. Make one
// with New and hand its Hooks to the clients it should observe; one
// Telemetry may serve any number of clients at once.
type Telemetry struct {
	tracer    trace.Tracer
	statement bool
	attrs     []attribute.KeyValue

	opDuration  metric.Float64Histogram
	connCount   metric.Int64UpDownCounter
	connCreate  metric.Float64Histogram
	redials     metric.Int64Counter
	closes      metric.Int64Counter
	cacheLookup metric.Int64Counter
	cacheDrops  metric.Int64Counter

	cluster clusterInstruments
	pubsub  pubsubInstruments
}

// New returns a Telemetry configured by opts. Its error is the meter's, when
// an instrument could not be made.
func New(opts ...Option) (*Telemetry, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tracerProvider == nil {
		cfg.tracerProvider = otel.GetTracerProvider()
	}
	if cfg.meterProvider == nil {
		cfg.meterProvider = otel.GetMeterProvider()
	}
	t := &Telemetry{
		tracer: cfg.tracerProvider.Tracer(ScopeName,
			trace.WithSchemaURL(semconv.SchemaURL)),
		statement: cfg.statement,
		attrs:     cfg.attrs,
	}
	m := cfg.meterProvider.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	if err := errors.Join(t.connInstruments(m), t.cluster.init(m), t.pubsub.init(m)); err != nil {
		return nil, errors.Join(errors.New("respotel: making the instruments"), err)
	}
	return t, nil
}

// Hooks returns a new conn.Hooks that report to t, for conn.Options.Hooks.
// Its Statement is on when New was given WithStatement(true).
func (t *Telemetry) Hooks() *conn.Hooks {
	return &conn.Hooks{
		Command:   t.command,
		Pipeline:  t.pipeline,
		Dial:      t.dial,
		State:     t.state,
		Redial:    t.redial,
		Cache:     t.cache,
		Statement: t.statement,
	}
}
