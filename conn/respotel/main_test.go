package respotel

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/respwire/respwire/internal/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(redistest.Setup(m, redistest.NeedServer|redistest.NeedCluster))
}

// recorded is a Telemetry that reports to an in-memory span recorder and a
// manual metric reader.
type recorded struct {
	*Telemetry
	tp     *sdktrace.TracerProvider
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newRecorded(t *testing.T, opts ...Option) *recorded {
	t.Helper()
	r := &recorded{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() {
		require.NoError(t, r.tp.Shutdown(context.Background()))
		require.NoError(t, mp.Shutdown(context.Background()))
	})
	tel, err := New(append([]Option{WithTracerProvider(r.tp), WithMeterProvider(mp)}, opts...)...)
	require.NoError(t, err)
	r.Telemetry = tel
	return r
}

// ended returns the spans that ended, requiring n of them.
func (r *recorded) ended(t *testing.T, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	spans := r.spans.Ended()
	require.Len(t, spans, n)
	return spans
}

// metric returns the metric named name, failing the test when none was
// recorded.
func (r *recorded) metric(t *testing.T, name string) metricdata.Metrics {
	t.Helper()
	m, ok := r.lookup(t, name)
	require.True(t, ok, "metric not recorded: %s", name)
	return m
}

// lookup returns the metric named name, and whether it was recorded.
func (r *recorded) lookup(t *testing.T, name string) (metricdata.Metrics, bool) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				require.Equal(t, ScopeName, sm.Scope.Name)
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// attrMap turns attrs into a map of their values, for exact comparisons.
func attrMap(attrs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(attrs))
	for _, kv := range attrs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// setMap is attrMap for an attribute set.
func setMap(s attribute.Set) map[string]any { return attrMap(s.ToSlice()) }
