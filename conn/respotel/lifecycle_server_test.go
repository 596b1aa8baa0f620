package respotel

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// killNamed kills, from the server's side, every connection named name,
// and returns how many.
func killNamed(t *testing.T, srv *redistest.Node, name string) int {
	ctx := testContext(t)
	v, err := srv.Do(ctx, "CLIENT", "LIST")
	require.NoError(t, err)
	list, _ := v.Text()
	n := 0
	for line := range strings.SplitSeq(list, "\n") {
		if strings.Contains(line, " name="+name+" ") {
			id, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
			if _, err := srv.Do(ctx, "CLIENT", "KILL", "ID", id); err == nil {
				n++
			}
		}
	}
	return n
}

// openConnections sums db.client.connection.count over its data points.
func openConnections(t *testing.T, r *recorded) int64 {
	m, ok := r.lookup(t, "db.client.connection.count")
	if !ok {
		return 0
	}
	var sum int64
	for _, p := range sumPoints(t, m) {
		sum += p.Value
	}
	return sum
}

// TestConnectionCountBackToZero: through calls on the shared Conn and on
// dedicated ones, with every connection killed by the server a few times
// on the way (so the shared one is redialled and dedicated ones replaced),
// each call's span is a child of the caller's, and once the Client is
// closed db.client.connection.count is back to 0.
func TestConnectionCountBackToZero(t *testing.T) {
	r := newRecorded(t)
	srv := redistest.Server()
	name := "otelcount" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ctx := testContext(t)
	c, err := conn.NewClient(ctx, srv.Addr, &conn.Options{Hooks: r.Hooks(), ClientName: name})
	require.NoError(t, err)
	tracer := r.tp.Tracer("test")
	key := uniqueKey(t, "list")

	var mu sync.Mutex
	parents := map[trace.SpanID]bool{}
	call := func(i int) {
		pctx, parent := tracer.Start(ctx, "caller")
		defer parent.End()
		mu.Lock()
		parents[parent.SpanContext().SpanID()] = true
		mu.Unlock()
		var err error
		switch i % 3 {
		case 0:
			_, err = c.Do(pctx, "INCR", key+":n")
		case 1:
			_, err = c.Do(pctx, "BLPOP", key, "0.01")
		default:
			err = c.Dedicated(pctx, func(cn *conn.Conn) error {
				_, err := cn.Do(pctx, "PING")
				return err
			})
		}
		if err != nil && !errors.Is(err, conn.ErrClosed) {
			t.Logf("call %d: %v", i, err)
		}
	}
	kills := 0
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() { call(round*12 + i) })
		}
		wg.Wait()
		assert.Positive(t, openConnections(t, r), "round %d: connections are open", round)
		kills += killNamed(t, srv, name)
	}
	require.NoError(t, c.Close())
	<-c.Done()
	assert.Zero(t, openConnections(t, r), "every connection counted open was counted closed")

	spans := named(r.spans.Ended(), "INCR")
	spans = append(spans, named(r.spans.Ended(), "BLPOP")...)
	spans = append(spans, named(r.spans.Ended(), "PING")...)
	require.NotEmpty(t, spans)
	for _, s := range spans {
		assert.True(t, parents[s.Parent().SpanID()], "span %s has its caller's span as parent", s.Name())
	}
	t.Logf("%d kills, %d spans of calls", kills, len(spans))
	assert.Positive(t, kills)
}

// TestClusterConnectionCountBackToZero: a cluster Client's node
// connections, a node's killed and redialled included, are counted open
// and closed, back to 0 once the Client is closed.
func TestClusterConnectionCountBackToZero(t *testing.T) {
	r := newRecorded(t)
	name := "otelcluster" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ctx := testContext(t)
	cc, err := cluster.New(ctx, &cluster.Options{
		Addrs: redistest.Cluster().Addrs(),
		Conn:  conn.Options{Hooks: r.Hooks(), ClientName: name},
		Hooks: r.ClusterHooks(),
	})
	require.NoError(t, err)
	for i := range 100 {
		_, err := cc.Do(ctx, "GET", uniqueKey(t, strconv.Itoa(i)))
		require.NoError(t, err)
	}
	assert.Positive(t, openConnections(t, r))
	for _, m := range redistest.Cluster().Masters() {
		killNamed(t, m, name)
	}
	for i := range 100 {
		_, _ = cc.Do(ctx, "GET", uniqueKey(t, strconv.Itoa(i)))
	}
	_, err = cc.Refresh(ctx)
	require.NoError(t, err)
	require.NoError(t, cc.Close())
	assert.Zero(t, openConnections(t, r), "every node connection counted open was counted closed")
}
