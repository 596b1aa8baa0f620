package respotel

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// An Option configures New.
type Option func(*config)

type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	statement      bool
	attrs          []attribute.KeyValue
}

// WithTracerProvider makes spans with tp instead of otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithMeterProvider records metrics with mp instead of
// otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// WithStatement, when on, puts each command's text in its span's
// db.query.text (off by default). conn replaces the arguments of AUTH,
// HELLO ... AUTH and CLIENT SETNAME with "?" and cuts the text at
// conn.StatementMax bytes; every other argument, keys and values included,
// is recorded as written, so turn it on only where that is acceptable.
// The text never goes in a metric.
func WithStatement(on bool) Option {
	return func(c *config) { c.statement = on }
}

// WithAttributes adds attrs to every span and every measurement.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, attrs...) }
}
