package respotel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

var testStart = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestCommandSpan(t *testing.T) {
	r := newRecorded(t)
	h := r.Hooks()
	assert.False(t, h.Statement, "statement recording is off by default")
	h.Command(context.Background(), conn.CommandEvent{
		Name: "GET", Addr: "10.1.2.3:6380", DB: 2,
		Start: testStart, Duration: 1500 * time.Microsecond, Written: true,
	})

	s := r.ended(t, 1)[0]
	assert.Equal(t, "GET", s.Name())
	assert.Equal(t, trace.SpanKindClient, s.SpanKind())
	assert.Equal(t, testStart, s.StartTime())
	assert.Equal(t, testStart.Add(1500*time.Microsecond), s.EndTime())
	assert.Equal(t, codes.Unset, s.Status().Code)
	assert.False(t, s.Parent().IsValid(), "no span in ctx: a root span")
	assert.Equal(t, ScopeName, s.InstrumentationScope().Name)
	assert.Equal(t, map[string]any{
		"db.system.name":    "redis",
		"db.operation.name": "GET",
		"db.namespace":      "2",
		"server.address":    "10.1.2.3",
		"server.port":       int64(6380),
	}, attrMap(s.Attributes()))
}

func TestCommandSpanKeepsTheCallersCase(t *testing.T) {
	r := newRecorded(t)
	r.Hooks().Command(context.Background(), conn.CommandEvent{
		Name: "hset", Addr: "localhost:6379", Start: testStart, Written: true,
	})
	s := r.ended(t, 1)[0]
	assert.Equal(t, "hset", s.Name())
	assert.Equal(t, "hset", attrMap(s.Attributes())["db.operation.name"])
	assert.Equal(t, "0", attrMap(s.Attributes())["db.namespace"])
}

func TestCommandSpanParent(t *testing.T) {
	r := newRecorded(t)
	ctx, parent := r.tp.Tracer("test").Start(context.Background(), "handler")
	r.Hooks().Command(ctx, conn.CommandEvent{
		Name: "SET", Addr: "127.0.0.1:6379", Start: testStart, Duration: time.Millisecond, Written: true,
	})
	parent.End()

	spans := r.ended(t, 2)
	child := spans[0]
	require.Equal(t, "SET", child.Name())
	assert.Equal(t, parent.SpanContext().SpanID(), child.Parent().SpanID())
	assert.Equal(t, parent.SpanContext().TraceID(), child.SpanContext().TraceID())
}

func TestCommandSpanWrongType(t *testing.T) {
	r := newRecorded(t)
	err := &resp.Error{Code: "WRONGTYPE", Message: "WRONGTYPE Operation against a key holding the wrong kind of value"}
	r.Hooks().Command(context.Background(), conn.CommandEvent{
		Name: "LPUSH", Addr: "127.0.0.1:7000", Start: testStart, Duration: time.Millisecond, Err: err, Written: true,
	})

	s := r.ended(t, 1)[0]
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Equal(t, err.Message, s.Status().Description)
	assert.Equal(t, map[string]any{
		"db.system.name":          "redis",
		"db.operation.name":       "LPUSH",
		"db.namespace":            "0",
		"server.address":          "127.0.0.1",
		"server.port":             int64(7000),
		"db.response.status_code": "WRONGTYPE",
		"error.type":              "WRONGTYPE",
	}, attrMap(s.Attributes()))
}

func TestCommandSpanDeadlineNotWritten(t *testing.T) {
	r := newRecorded(t)
	r.Hooks().Command(context.Background(), conn.CommandEvent{
		Name: "GET", Addr: "127.0.0.1:7000", Start: testStart, Duration: time.Second,
		Err: fmt.Errorf("conn: waiting for room: %w", context.DeadlineExceeded), Written: false,
	})

	s := r.ended(t, 1)[0]
	assert.Equal(t, codes.Error, s.Status().Code)
	attrs := attrMap(s.Attributes())
	assert.Equal(t, "context.DeadlineExceeded", attrs["error.type"])
	assert.Equal(t, false, attrs["respwire.written"])
	assert.NotContains(t, attrs, "db.response.status_code")
}

func TestStatement(t *testing.T) {
	const text = "AUTH ? ?"
	ev := conn.CommandEvent{Name: "AUTH", Addr: "127.0.0.1:7000", Start: testStart, Statement: text, Written: true}

	t.Run("on", func(t *testing.T) {
		r := newRecorded(t, WithStatement(true))
		h := r.Hooks()
		require.True(t, h.Statement, "WithStatement(true) asks conn for the text")
		h.Command(context.Background(), ev)
		assert.Equal(t, text, attrMap(r.ended(t, 1)[0].Attributes())["db.query.text"])
	})
	t.Run("off", func(t *testing.T) {
		r := newRecorded(t, WithStatement(false))
		h := r.Hooks()
		require.False(t, h.Statement)
		ev := ev
		ev.Statement = "" // what conn sends with Statement off
		h.Command(context.Background(), ev)
		assert.NotContains(t, attrMap(r.ended(t, 1)[0].Attributes()), "db.query.text")
	})
}

func TestPipelineSpan(t *testing.T) {
	r := newRecorded(t, WithStatement(true))
	h := r.Hooks()
	ctx, parent := r.tp.Tracer("test").Start(context.Background(), "batch job")
	h.Pipeline(ctx, conn.PipelineEvent{
		Len: 3, Name: "SET", Addr: "127.0.0.1:7001", DB: 1,
		Statement: "SET a 1\nINCR a\nLPUSH a x",
		Start:     testStart, Duration: 2 * time.Millisecond, Errors: 1, Written: true,
	})
	parent.End()

	s := r.ended(t, 2)[0]
	assert.Equal(t, "PIPELINE", s.Name())
	assert.Equal(t, trace.SpanKindClient, s.SpanKind())
	assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID())
	assert.Equal(t, testStart.Add(2*time.Millisecond), s.EndTime())
	assert.Equal(t, codes.Unset, s.Status().Code, "an error reply inside a pipeline that succeeded does not fail it")
	assert.Equal(t, map[string]any{
		"db.system.name":           "redis",
		"db.operation.name":        "PIPELINE",
		"db.namespace":             "1",
		"server.address":           "127.0.0.1",
		"server.port":              int64(7001),
		"db.operation.batch.size":  int64(3),
		"db.query.text":            "SET a 1\nINCR a\nLPUSH a x",
		"respwire.pipeline.errors": int64(1),
	}, attrMap(s.Attributes()))
}

func TestPipelineOfOneIsACommand(t *testing.T) {
	r := newRecorded(t)
	r.Hooks().Pipeline(context.Background(), conn.PipelineEvent{
		Len: 1, Name: "INCR", Addr: "127.0.0.1:7001", Start: testStart, Written: true,
	})
	s := r.ended(t, 1)[0]
	assert.Equal(t, "INCR", s.Name())
	assert.NotContains(t, attrMap(s.Attributes()), "db.operation.batch.size")
}

func TestPipelineFailed(t *testing.T) {
	r := newRecorded(t)
	r.Hooks().Pipeline(context.Background(), conn.PipelineEvent{
		Len: 2, Name: "GET", Addr: "127.0.0.1:7001", Start: testStart,
		Err: fmt.Errorf("conn: %w", conn.ErrClosed), Written: false,
	})
	s := r.ended(t, 1)[0]
	assert.Equal(t, codes.Error, s.Status().Code)
	attrs := attrMap(s.Attributes())
	assert.Equal(t, "conn.ErrClosed", attrs["error.type"])
	assert.Equal(t, false, attrs["respwire.written"])
	assert.Equal(t, int64(2), attrs["db.operation.batch.size"])
}

func TestWithAttributes(t *testing.T) {
	r := newRecorded(t, WithAttributes(attribute.String("service.role", "cache")))
	r.Hooks().Command(context.Background(), conn.CommandEvent{
		Name: "GET", Addr: "127.0.0.1:7001", Start: testStart, Written: true,
	})
	assert.Equal(t, "cache", attrMap(r.ended(t, 1)[0].Attributes())["service.role"])
	points := r.metric(t, "db.client.operation.duration")
	assert.Equal(t, "cache", setMap(histogramPoints(t, points)[0].Attributes)["service.role"])
}

func TestServerAttributesOfOddAddresses(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want map[string]any
	}{
		{"[::1]:6379", map[string]any{"server.address": "::1", "server.port": int64(6379)}},
		{"/tmp/redis.sock", map[string]any{"server.address": "/tmp/redis.sock"}},
		{"", map[string]any{}},
		{"host:notaport", map[string]any{"server.address": "host"}},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			assert.Equal(t, tc.want, attrMap(appendServer(nil, tc.addr)))
		})
	}
}
