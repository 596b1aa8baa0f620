package respotel_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/conn/respotel"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/pubsub"
)

// A Client whose commands are spans under the caller's span. A program
// would leave out WithTracerProvider and set the otel globals instead (its
// exporter's tracer and meter providers).
func ExampleNew() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	tel, err := respotel.New(respotel.WithTracerProvider(tp))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, &conn.Options{Hooks: tel.Hooks()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	ctx, span := tp.Tracer("example").Start(ctx, "handle request")
	if _, err := c.Do(ctx, "SET", "example:respotel", "1"); err != nil {
		fmt.Println(err)
	}
	span.End()

	for _, s := range spans.Ended() {
		fmt.Print(s.Name(), " ", s.SpanKind())
		for _, kv := range s.Attributes() {
			if kv.Key == "db.system.name" || kv.Key == "db.operation.name" {
				fmt.Print(" ", kv.Key, "=", kv.Value.AsString())
			}
		}
		if s.Parent().SpanID() == span.SpanContext().SpanID() {
			fmt.Print(" (child of handle request)")
		}
		fmt.Println()
	}
	// Output:
	// SET client db.system.name=redis db.operation.name=SET (child of handle request)
	// handle request internal
}

// A cluster Client and a Subscriber report through the same Telemetry: the
// node connections through Hooks, routing and the topology through
// ClusterHooks, subscriptions through PubsubHooks. With no providers given,
// the otel globals receive everything.
func ExampleTelemetry_ClusterHooks() {
	tel, err := respotel.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	cc, err := cluster.New(ctx, &cluster.Options{
		Addrs: redistest.Cluster().Addrs(),
		Conn:  conn.Options{Hooks: tel.Hooks()},
		Hooks: tel.ClusterHooks(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cc.Close()

	sub, err := pubsub.NewClusterWithOptions(ctx, cc, &pubsub.Options{Hooks: tel.PubsubHooks()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()

	if _, err := cc.Do(ctx, "SET", "example:respotel:cluster", "1"); err != nil {
		fmt.Println(err)
	}
	// Output:
}
