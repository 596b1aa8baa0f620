package respotel

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/respwire/respwire/conn"
)

// BenchmarkCommandHook is the cost the adapter adds to each command: with
// no-op providers (the otel globals before a program sets them), and with
// the SDK sampling every span into a processor that keeps nothing.
func BenchmarkCommandHook(b *testing.B) {
	ev := conn.CommandEvent{Name: "GET", Addr: "127.0.0.1:6379", Start: time.Now(), Duration: time.Millisecond, Written: true}
	for _, bc := range []struct {
		name string
		opts func(b *testing.B) []Option
	}{
		{"noop", func(*testing.B) []Option {
			return []Option{WithTracerProvider(tracenoop.NewTracerProvider()), WithMeterProvider(metricnoop.NewMeterProvider())}
		}},
		{"sdk", func(b *testing.B) []Option {
			tp := sdktrace.NewTracerProvider()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() {
				_ = tp.Shutdown(context.Background())
				_ = mp.Shutdown(context.Background())
			})
			return []Option{WithTracerProvider(tp), WithMeterProvider(mp)}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tel, err := New(bc.opts(b)...)
			require.NoError(b, err)
			hook := tel.Hooks().Command
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				hook(ctx, ev)
			}
		})
	}
}
