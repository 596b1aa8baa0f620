package respotel_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/conn/respotel"
	"github.com/respwire/respwire/internal/redistest"
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
