package respotel

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// histogramPoints returns m's data points, requiring m to be a float64
// histogram.
func histogramPoints(t *testing.T, m metricdata.Metrics) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is a %T", m.Name, m.Data)
	return h.DataPoints
}

// sumPoints returns m's data points, requiring m to be an int64 sum.
func sumPoints(t *testing.T, m metricdata.Metrics) []metricdata.DataPoint[int64] {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T", m.Name, m.Data)
	return s.DataPoints
}

// sumByAttrs maps each data point's attributes, as attrMap prints them, to
// its value.
func sumByAttrs(t *testing.T, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, p := range sumPoints(t, m) {
		out[fmt.Sprint(setMap(p.Attributes))] = p.Value
	}
	return out
}

func TestOperationDuration(t *testing.T) {
	r := newRecorded(t, WithStatement(true))
	h := r.Hooks()
	ev := conn.CommandEvent{
		Name: "GET", Addr: "127.0.0.1:7002", DB: 3, Statement: "GET k",
		Start: testStart, Duration: 3 * time.Millisecond, Written: true,
	}
	h.Command(context.Background(), ev)
	ev.Duration = 7 * time.Millisecond
	h.Command(context.Background(), ev)
	ev.Err = &resp.Error{Code: "WRONGTYPE"}
	h.Command(context.Background(), ev)
	h.Pipeline(context.Background(), conn.PipelineEvent{
		Len: 4, Name: "GET", Addr: "127.0.0.1:7002", DB: 3, Start: testStart, Duration: 20 * time.Millisecond, Written: true,
	})

	m := r.metric(t, "db.client.operation.duration")
	assert.Equal(t, "s", m.Unit)
	byAttrs := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, p := range histogramPoints(t, m) {
		byAttrs[fmt.Sprint(setMap(p.Attributes))] = p
		assert.Equal(t, []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}, p.Bounds)
	}
	require.Len(t, byAttrs, 3)

	get := byAttrs[fmt.Sprint(map[string]any{
		"db.system.name": "redis", "db.operation.name": "GET", "db.namespace": "3",
		"server.address": "127.0.0.1", "server.port": int64(7002),
	})]
	assert.Equal(t, uint64(2), get.Count, "the two GETs that succeeded; no db.query.text in a metric")
	assert.InDelta(t, 0.010, get.Sum, 1e-9)
	assert.Equal(t, []uint64{0, 1, 1, 0, 0, 0, 0, 0, 0, 0}, get.BucketCounts)

	failed := byAttrs[fmt.Sprint(map[string]any{
		"db.system.name": "redis", "db.operation.name": "GET", "db.namespace": "3",
		"server.address": "127.0.0.1", "server.port": int64(7002),
		"db.response.status_code": "WRONGTYPE", "error.type": "WRONGTYPE",
	})]
	assert.Equal(t, uint64(1), failed.Count)

	pipeline := byAttrs[fmt.Sprint(map[string]any{
		"db.system.name": "redis", "db.operation.name": "PIPELINE", "db.namespace": "3",
		"server.address": "127.0.0.1", "server.port": int64(7002),
	})]
	assert.Equal(t, uint64(1), pipeline.Count, "a batch is one operation, without its size")
	assert.InDelta(t, 0.020, pipeline.Sum, 1e-9)
}

func connMetricAttrs(addr string, port int64, extra map[string]any) string {
	m := map[string]any{
		"db.system.name":                 "redis",
		"db.client.connection.pool.name": addr,
		"db.client.connection.state":     "used",
		"server.address":                 "127.0.0.1",
		"server.port":                    port,
	}
	for k, v := range extra {
		m[k] = v
	}
	return fmt.Sprint(m)
}

func TestConnectionMetrics(t *testing.T) {
	r := newRecorded(t)
	h := r.Hooks()
	ctx := context.Background()
	const a, b = "127.0.0.1:7100", "127.0.0.1:7101"
	refused := errors.New("dial tcp: connection refused")
	h.Dial(ctx, conn.DialEvent{Addr: a, Start: testStart, Duration: 2 * time.Millisecond})
	h.Dial(ctx, conn.DialEvent{Addr: a, Start: testStart, Duration: 2 * time.Millisecond})
	h.Dial(ctx, conn.DialEvent{Addr: b, Start: testStart, Duration: 4 * time.Millisecond})
	h.Dial(ctx, conn.DialEvent{Addr: b, Start: testStart, Duration: time.Second, Err: refused})
	// One of a's Conns closes by Close, b's is lost.
	h.State(conn.StateEvent{Addr: a, From: conn.StateOpen, To: conn.StateClosing, Cause: conn.ErrClosed})
	h.State(conn.StateEvent{Addr: a, From: conn.StateClosing, To: conn.StateClosed, Cause: conn.ErrClosed})
	lost := errors.Join(conn.ErrClosed, errors.New("read: connection reset"))
	h.State(conn.StateEvent{Addr: b, From: conn.StateOpen, To: conn.StateClosing, Cause: lost})
	h.State(conn.StateEvent{Addr: b, From: conn.StateClosing, To: conn.StateClosed, Cause: lost})
	h.Redial(conn.RedialEvent{Addr: b, Attempt: 1, Duration: time.Millisecond, Err: refused})
	h.Redial(conn.RedialEvent{Addr: b, Attempt: 2, Duration: time.Millisecond})

	count := r.metric(t, "db.client.connection.count")
	assert.Equal(t, "{connection}", count.Unit)
	assert.False(t, count.Data.(metricdata.Sum[int64]).IsMonotonic, "an up-down counter")
	assert.Equal(t, map[string]int64{
		connMetricAttrs(a, 7100, nil): 1,
		connMetricAttrs(b, 7101, nil): 0,
	}, sumByAttrs(t, count))

	create := r.metric(t, "db.client.connection.create_time")
	assert.Equal(t, "s", create.Unit)
	counts := map[string]uint64{}
	for _, p := range histogramPoints(t, create) {
		counts[fmt.Sprint(setMap(p.Attributes))] = p.Count
	}
	assert.Equal(t, map[string]uint64{
		connMetricAttrs(a, 7100, nil):                                    2,
		connMetricAttrs(b, 7101, nil):                                    1,
		connMetricAttrs(b, 7101, map[string]any{"error.type": "_OTHER"}): 1,
	}, counts)

	assert.Equal(t, map[string]int64{
		connMetricAttrs(a, 7100, map[string]any{"respwire.close.reason": "closed"}): 1,
		connMetricAttrs(b, 7101, map[string]any{"respwire.close.reason": "lost"}):   1,
	}, sumByAttrs(t, r.metric(t, "respwire.client.connection.closes")))

	assert.Equal(t, map[string]int64{
		connMetricAttrs(b, 7101, map[string]any{"error.type": "_OTHER"}): 1,
		connMetricAttrs(b, 7101, nil):                                    1,
	}, sumByAttrs(t, r.metric(t, "respwire.client.redials")))
}

func TestCloseReason(t *testing.T) {
	assert.Equal(t, "closed", closeReason(conn.ErrClosed))
	assert.Equal(t, "silent", closeReason(errors.Join(conn.ErrSilent, conn.ErrClosed)))
	assert.Equal(t, "lost", closeReason(errors.Join(conn.ErrClosed, errors.New("EOF"))))
}

func TestCacheMetrics(t *testing.T) {
	r := newRecorded(t)
	h := r.Hooks()
	h.Cache(conn.CacheEvent{Kind: conn.CacheHit, Name: "GET", Entries: 1})
	h.Cache(conn.CacheEvent{Kind: conn.CacheHit, Name: "GET", Entries: 1})
	h.Cache(conn.CacheEvent{Kind: conn.CacheMiss, Name: "GET", Entries: 1})
	h.Cache(conn.CacheEvent{Kind: conn.CacheEviction, Entries: 3})
	h.Cache(conn.CacheEvent{Kind: conn.CacheInvalidation, Entries: 5})
	h.Cache(conn.CacheEvent{Kind: conn.CacheInvalidation, Entries: 1})

	assert.Equal(t, map[string]int64{
		fmt.Sprint(map[string]any{"db.system.name": "redis", "db.operation.name": "GET", "respwire.cache.result": "hit"}):  2,
		fmt.Sprint(map[string]any{"db.system.name": "redis", "db.operation.name": "GET", "respwire.cache.result": "miss"}): 1,
	}, sumByAttrs(t, r.metric(t, "respwire.client.cache.lookups")))
	assert.Equal(t, map[string]int64{
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.cache.reason": "eviction"}):     3,
		fmt.Sprint(map[string]any{"db.system.name": "redis", "respwire.cache.reason": "invalidation"}): 6,
	}, sumByAttrs(t, r.metric(t, "respwire.client.cache.drops")))
}
