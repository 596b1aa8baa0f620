package respotel

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// These tests run the adapter's hooks inside real clients, against the
// package's redis-server.

// testTimeout bounds every test's calls, so a bug fails a test instead of
// hanging the run.
const testTimeout = 30 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// uniqueKey is a key no other test uses.
func uniqueKey(t *testing.T, suffix string) string {
	return "respotel:" + t.Name() + ":" + suffix
}

// newClient returns a Client of addr that reports to r, closed when the
// test ends.
func newClient(t *testing.T, r *recorded, addr string, opts conn.Options) *conn.Client {
	t.Helper()
	opts.Hooks = r.Hooks()
	c, err := conn.NewClient(testContext(t), addr, &opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// serverAttrs are the server.address and server.port attributes of addr.
func serverAttrs(t *testing.T, addr string) (string, int64) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return host, int64(p)
}

// named returns the ended spans named name.
func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func TestServerCommands(t *testing.T) {
	r := newRecorded(t)
	addr := redistest.Server().Addr
	c := newClient(t, r, addr, conn.Options{})
	ctx, parent := r.tp.Tracer("test").Start(testContext(t), "handler")
	key := uniqueKey(t, "k")
	before := time.Now()
	_, err := c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	_, err = c.Do(ctx, "get", key)
	require.NoError(t, err)
	after := time.Now()
	parent.End()

	host, port := serverAttrs(t, addr)
	spans := r.spans.Ended()
	for _, name := range []string{"SET", "get"} {
		got := named(spans, name)
		require.Len(t, got, 1, name)
		s := got[0]
		assert.Equal(t, trace.SpanKindClient, s.SpanKind())
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), name)
		assert.Equal(t, codes.Unset, s.Status().Code)
		assert.False(t, s.StartTime().Before(before), "%s starts in the call", name)
		assert.False(t, s.EndTime().After(after), "%s ends in the call", name)
		assert.False(t, s.EndTime().Before(s.StartTime()))
		assert.Equal(t, map[string]any{
			"db.system.name":    "redis",
			"db.operation.name": name,
			"db.namespace":      "0",
			"server.address":    host,
			"server.port":       port,
		}, attrMap(s.Attributes()))
	}

	var total uint64
	for _, p := range histogramPoints(t, r.metric(t, "db.client.operation.duration")) {
		assert.Equal(t, host, setMap(p.Attributes)["server.address"])
		total += p.Count
	}
	assert.Equal(t, uint64(len(named(spans, "SET"))+len(named(spans, "get"))), total,
		"one measurement per span (the handshake is a dial, not a command)")
}

func TestServerDB(t *testing.T) {
	r := newRecorded(t)
	c := newClient(t, r, redistest.Server().Addr, conn.Options{DB: 3})
	_, err := c.Do(testContext(t), "PING")
	require.NoError(t, err)
	got := named(r.spans.Ended(), "PING")
	require.Len(t, got, 1)
	assert.Equal(t, "3", attrMap(got[0].Attributes())["db.namespace"])
}

func TestServerWrongType(t *testing.T) {
	r := newRecorded(t)
	c := newClient(t, r, redistest.Server().Addr, conn.Options{})
	ctx := testContext(t)
	key := uniqueKey(t, "string")
	_, err := c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	_, err = c.Do(ctx, "LPUSH", key, "x")
	require.ErrorContains(t, err, "WRONGTYPE")

	got := named(r.spans.Ended(), "LPUSH")
	require.Len(t, got, 1)
	s := got[0]
	assert.Equal(t, codes.Error, s.Status().Code)
	attrs := attrMap(s.Attributes())
	assert.Equal(t, "WRONGTYPE", attrs["error.type"])
	assert.Equal(t, "WRONGTYPE", attrs["db.response.status_code"])
}

func TestServerDeadline(t *testing.T) {
	r := newRecorded(t)
	// DEBUG SLEEP holds the server past the call's deadline: the command
	// was written, its reply comes too late. A server of its own, so no
	// other test waits.
	node := redistest.NewNode(t, redistest.NodeOptions{})
	c := newClient(t, r, node.Addr, conn.Options{})
	ctx, cancel := context.WithTimeout(testContext(t), 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, "DEBUG", "SLEEP", "0.3")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	got := named(r.spans.Ended(), "DEBUG")
	require.Len(t, got, 1)
	s := got[0]
	assert.Equal(t, codes.Error, s.Status().Code)
	attrs := attrMap(s.Attributes())
	assert.Equal(t, "context.DeadlineExceeded", attrs["error.type"])
	assert.NotContains(t, attrs, "respwire.written", "it was written")
	assert.NotContains(t, attrs, "db.response.status_code")
}

func TestServerCanceledBeforeWritten(t *testing.T) {
	r := newRecorded(t)
	c := newClient(t, r, redistest.Server().Addr, conn.Options{})
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	_, err := c.Do(ctx, "GET", uniqueKey(t, "k"))
	require.ErrorIs(t, err, context.Canceled)

	got := named(r.spans.Ended(), "GET")
	require.Len(t, got, 1)
	attrs := attrMap(got[0].Attributes())
	assert.Equal(t, "context.Canceled", attrs["error.type"])
	assert.Equal(t, false, attrs["respwire.written"])
}

func TestServerPipeline(t *testing.T) {
	r := newRecorded(t, WithStatement(true))
	addr := redistest.Server().Addr
	c := newClient(t, r, addr, conn.Options{})
	key := uniqueKey(t, "k")
	vals, err := c.DoMulti(testContext(t), []string{"SET", key, "v"}, []string{"LPUSH", key, "x"}, []string{"GET", key})
	require.NoError(t, err)
	require.Len(t, vals, 3)

	got := named(r.spans.Ended(), "PIPELINE")
	require.Len(t, got, 1)
	host, port := serverAttrs(t, addr)
	assert.Equal(t, map[string]any{
		"db.system.name":           "redis",
		"db.operation.name":        "PIPELINE",
		"db.namespace":             "0",
		"server.address":           host,
		"server.port":              port,
		"db.operation.batch.size":  int64(3),
		"db.query.text":            "SET " + key + " v\nLPUSH " + key + " x\nGET " + key,
		"respwire.pipeline.errors": int64(1),
	}, attrMap(got[0].Attributes()))
	assert.Equal(t, codes.Unset, got[0].Status().Code)
}

// TestServerStatementRedacted: with statements on, a password sent with AUTH
// or in the handshake is in no span, no event and no metric; the
// statements of other commands are.
func TestServerStatementRedacted(t *testing.T) {
	const password = "otel-s3cret-pw"
	node := redistest.NewNode(t, redistest.NodeOptions{Password: password})
	r := newRecorded(t, WithStatement(true))
	ctx := testContext(t)
	// A Conn: a Client refuses AUTH on its shared connection.
	c, err := conn.Dial(ctx, node.Addr, &conn.Options{Password: password, ClientName: "otel-test", Hooks: r.Hooks()})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = c.Do(ctx, "AUTH", "default", password)
	require.NoError(t, err)
	_, err = c.Do(ctx, "AUTH", password)
	require.NoError(t, err)
	_, err = c.Do(ctx, "HELLO", "3", "AUTH", "default", password)
	require.NoError(t, err)
	_, err = c.Do(ctx, "AUTH", "default", "wrong-"+password)
	require.Error(t, err)
	_, err = c.Do(ctx, "ACL", "SETUSER", "respotel-user", "on", ">"+password, "~*", "+get")
	require.NoError(t, err)
	_, err = c.Do(ctx, "ACL", "DELUSER", "respotel-user")
	require.NoError(t, err)
	_, err = c.Do(ctx, "CLIENT", "SETNAME", "otel-renamed")
	require.NoError(t, err)
	_, err = c.Do(ctx, "SET", "k", "v")
	require.NoError(t, err)

	spans := r.spans.Ended()
	require.Len(t, named(spans, "AUTH"), 3)
	texts := map[string]bool{}
	for _, s := range spans {
		if v, ok := attrMap(s.Attributes())["db.query.text"].(string); ok {
			texts[v] = true
		}
	}
	assert.Equal(t, map[string]bool{
		"AUTH ? ?":                          true, // the two AUTH default ..., the good and the wrong one
		"AUTH ?":                            true,
		"HELLO 3 AUTH ? ?":                  true,
		"ACL SETUSER respotel-user ? ? ? ?": true, // its rules, the password among them
		"ACL DELUSER respotel-user":         true,
		"CLIENT SETNAME otel-renamed":       true, // a name is no secret, says conn
		"SET k v":                           true, // other statements are recorded whole
	}, texts)

	var recorded []string
	addAttrs := func(attrs []attribute.KeyValue) {
		for _, kv := range attrs {
			recorded = append(recorded, string(kv.Key), kv.Value.String())
		}
	}
	for _, s := range spans {
		recorded = append(recorded, s.Name(), s.Status().Description)
		addAttrs(s.Attributes())
		for _, e := range s.Events() {
			recorded = append(recorded, e.Name)
			addAttrs(e.Attributes)
		}
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			recorded = append(recorded, m.Name, m.Description)
			recorded = append(recorded, fmt.Sprintf("%+v", m.Data))
		}
	}
	require.NotEmpty(t, recorded)
	for _, s := range recorded {
		require.NotContains(t, s, password)
	}
}

func TestServerConnectionCount(t *testing.T) {
	r := newRecorded(t)
	addr := redistest.Server().Addr
	host, port := serverAttrs(t, addr)
	pool := fmt.Sprint(map[string]any{
		"db.system.name": "redis", "db.client.connection.pool.name": addr,
		"db.client.connection.state": "used", "server.address": host, "server.port": port,
	})
	c := newClient(t, r, addr, conn.Options{})
	_, err := c.Do(testContext(t), "PING")
	require.NoError(t, err)
	assert.Equal(t, int64(1), sumByAttrs(t, r.metric(t, "db.client.connection.count"))[pool])

	require.NoError(t, c.Close())
	<-c.Done()
	assert.Equal(t, int64(0), sumByAttrs(t, r.metric(t, "db.client.connection.count"))[pool])
	var creates uint64
	for _, p := range histogramPoints(t, r.metric(t, "db.client.connection.create_time")) {
		creates += p.Count
	}
	assert.Equal(t, uint64(1), creates)
}

// TestServerRedial: a connection the server kills is counted as lost and
// closed, the Client's redial is counted, and the count of open connections
// comes back to one.
func TestServerRedial(t *testing.T) {
	r := newRecorded(t)
	addr := redistest.Server().Addr
	c := newClient(t, r, addr, conn.Options{ClientName: "respotel-redial"})
	ctx := testContext(t)
	v, err := c.Do(ctx, "CLIENT", "ID")
	require.NoError(t, err)
	id, err := v.Int()
	require.NoError(t, err)
	killed, err := redistest.Server().Do(ctx, "CLIENT", "KILL", "ID", strconv.FormatInt(id, 10))
	require.NoError(t, err)
	n, err := killed.Int()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "CLIENT KILL found the connection")

	total := func(name string, match func(map[string]any) bool) int64 {
		m, ok := r.lookup(t, name)
		if !ok {
			return 0
		}
		var n int64
		for _, p := range sumPoints(t, m) {
			if match(setMap(p.Attributes)) {
				n += p.Value
			}
		}
		return n
	}
	succeeded := func(a map[string]any) bool { _, failed := a["error.type"]; return !failed }
	require.Eventually(t, func() bool {
		return total("respwire.client.redials", succeeded) >= 1
	}, testTimeout, 5*time.Millisecond, "the Client redials")
	_, err = c.Do(ctx, "PING")
	require.NoError(t, err)
	assert.Equal(t, int64(1), total("respwire.client.connection.closes",
		func(a map[string]any) bool { return a["respwire.close.reason"] == "lost" }))
	assert.Equal(t, int64(1), total("db.client.connection.count",
		func(map[string]any) bool { return true }), "one open after the redial")
}

// TestServerRefusedHandshake: a dial whose handshake the server refuses is
// timed with its error.type and opens no connection, so the count of open
// connections doesn't go negative or up.
func TestServerRefusedHandshake(t *testing.T) {
	const password = "otel-handshake-pw"
	node := redistest.NewNode(t, redistest.NodeOptions{Password: password})
	r := newRecorded(t)
	_, err := conn.Dial(testContext(t), node.Addr, &conn.Options{Password: "wrong-" + password, Hooks: r.Hooks()})
	require.Error(t, err)

	host, port := serverAttrs(t, node.Addr)
	create := r.metric(t, "db.client.connection.create_time")
	points := histogramPoints(t, create)
	require.Len(t, points, 1)
	assert.Equal(t, map[string]any{
		"db.system.name": "redis", "db.client.connection.pool.name": node.Addr,
		"db.client.connection.state": "used", "server.address": host, "server.port": port,
		"error.type": "WRONGPASS",
	}, setMap(points[0].Attributes))
	_, counted := r.lookup(t, "db.client.connection.count")
	assert.False(t, counted, "no connection opened or closed")
	_, closed := r.lookup(t, "respwire.client.connection.closes")
	assert.False(t, closed)
}

// TestServerCache: DoCache's miss reads from the server (a span, like any
// command), its hit doesn't, and a write from elsewhere invalidates the
// entry; each is counted.
func TestServerCache(t *testing.T) {
	r := newRecorded(t)
	c := newClient(t, r, redistest.Server().Addr, conn.Options{})
	ctx := testContext(t)
	key := uniqueKey(t, "k")
	_, err := c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	for range 3 {
		_, err = c.DoCache(ctx, time.Minute, "GET", key)
		require.NoError(t, err)
	}
	assert.Len(t, named(r.spans.Ended(), "GET"), 1, "only the miss reached the server")
	results := map[string]int64{}
	for _, p := range sumPoints(t, r.metric(t, "respwire.client.cache.lookups")) {
		attrs := setMap(p.Attributes)
		assert.Equal(t, "GET", attrs["db.operation.name"])
		results[attrs["respwire.cache.result"].(string)] += p.Value
	}
	assert.Equal(t, map[string]int64{"miss": 1, "hit": 2}, results)

	_, err = redistest.Server().Do(ctx, "SET", key, "w")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		m, ok := r.lookup(t, "respwire.client.cache.drops")
		if !ok {
			return false
		}
		var n int64
		for _, p := range sumPoints(t, m) {
			if setMap(p.Attributes)["respwire.cache.reason"] == "invalidation" {
				n += p.Value
			}
		}
		return n >= 1
	}, testTimeout, 5*time.Millisecond, "the server's invalidation is counted")
}
