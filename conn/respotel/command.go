package respotel

import (
	"context"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/respwire/respwire/conn"
)

// This file turns Command and Pipeline events into a span and a
// db.client.operation.duration measurement each.

const (
	pipelineName = "PIPELINE"

	// writtenKey is false on the span of a call whose command never reached
	// the write buffer; absent otherwise.
	writtenKey = attribute.Key("respwire.written")
	// pipelineErrorsKey counts a pipeline's error replies, when it has any.
	pipelineErrorsKey = attribute.Key("respwire.pipeline.errors")
)

// clientKind is the option of every span, made once.
var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// operation is what a Command or Pipeline event says about one call.
type operation struct {
	name      string
	addr      string
	db        int
	statement string
	batch     int // the number of commands of a pipeline; -1 for a command
	errors    int // a pipeline's error replies
	err       error
	written   bool
	start     time.Time
	duration  time.Duration
}

func (t *Telemetry) command(ctx context.Context, e conn.CommandEvent) {
	t.record(ctx, operation{
		name: e.Name, addr: e.Addr, db: e.DB, statement: e.Statement,
		batch: -1, err: e.Err, written: e.Written,
		start: e.Start, duration: e.Duration,
	})
}

func (t *Telemetry) pipeline(ctx context.Context, e conn.PipelineEvent) {
	op := operation{
		name: pipelineName, addr: e.Addr, db: e.DB, statement: e.Statement,
		batch: e.Len, errors: e.Errors, err: e.Err, written: e.Written,
		start: e.Start, duration: e.Duration,
	}
	if e.Len == 1 {
		// A batch of one is that one operation, say the conventions.
		op.name, op.batch = e.Name, -1
	}
	t.record(ctx, op)
}

// record makes op's span, from its start to its start plus its duration,
// parented on ctx's span, and records its duration.
func (t *Telemetry) record(ctx context.Context, op operation) {
	// The attributes that both the span and the measurement carry come
	// first, so the measurement takes a prefix of the span's.
	attrs := make([]attribute.KeyValue, 0, 12+len(t.attrs))
	attrs = append(attrs,
		semconv.DBSystemNameRedis,
		semconv.DBOperationName(op.name),
		semconv.DBNamespace(strconv.Itoa(op.db)),
	)
	attrs = appendServer(attrs, op.addr)
	var errType string
	if op.err != nil {
		var code string
		errType, code = errorType(op.err)
		if code != "" {
			attrs = append(attrs, semconv.DBResponseStatusCode(code))
		}
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	attrs = append(attrs, t.attrs...)
	shared := len(attrs)

	if op.batch >= 0 {
		attrs = append(attrs, semconv.DBOperationBatchSize(op.batch))
	}
	if op.statement != "" {
		attrs = append(attrs, semconv.DBQueryText(op.statement))
	}
	if !op.written {
		attrs = append(attrs, writtenKey.Bool(false))
	}
	if op.errors > 0 {
		attrs = append(attrs, pipelineErrorsKey.Int(op.errors))
	}

	_, span := t.tracer.Start(ctx, op.name,
		clientKind,
		trace.WithTimestamp(op.start),
		trace.WithAttributes(attrs...),
	)
	if op.err != nil {
		span.SetStatus(codes.Error, op.err.Error())
	}
	span.End(trace.WithTimestamp(op.start.Add(op.duration)))

	t.opDuration.Record(ctx, op.duration.Seconds(), metric.WithAttributes(attrs[:shared]...))
}

// appendServer appends server.address and server.port from addr
// ("host:port"), or addr whole as server.address when it has no port.
func appendServer(attrs []attribute.KeyValue, addr string) []attribute.KeyValue {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if addr == "" {
			return attrs
		}
		return append(attrs, semconv.ServerAddress(addr))
	}
	attrs = append(attrs, semconv.ServerAddress(host))
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	return attrs
}
