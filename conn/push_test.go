package conn

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// pushLog collects the push frames a Conn's OnPush receives.
type pushLog struct {
	mu     sync.Mutex
	frames [][]string
	kind   []resp.Kind
}

func (l *pushLog) onPush(v resp.Value) {
	var frame []string
	for _, e := range v.Elems() {
		s, _ := e.Text()
		if n, err := e.Int(); err == nil && e.Kind() == resp.Integer {
			s = strconv.FormatInt(n, 10)
		}
		frame = append(frame, s)
	}
	l.mu.Lock()
	l.frames = append(l.frames, frame)
	l.kind = append(l.kind, v.Kind())
	l.mu.Unlock()
}

func (l *pushLog) kinds() []resp.Kind {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]resp.Kind(nil), l.kind...)
}

func (l *pushLog) all() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]string(nil), l.frames...)
}

// count returns how many frames start with kind.
func (l *pushLog) count(kind string) int {
	n := 0
	for _, f := range l.all() {
		if len(f) > 0 && f[0] == kind {
			n++
		}
	}
	return n
}

func TestSendReturnsAfterItsPushes(t *testing.T) {
	var log pushLog
	c := dialTest(t, &Options{OnPush: log.onPush})
	ctx := testContext(t)

	require.NoError(t, c.Send(ctx, "SUBSCRIBE", "conn:push:a", "conn:push:b"))
	assert.Equal(t, [][]string{
		{"subscribe", "conn:push:a", "1"},
		{"subscribe", "conn:push:b", "2"},
	}, log.all(), "both confirmations reached OnPush before Send returned")

	require.NoError(t, c.Send(ctx, "UNSUBSCRIBE", "conn:push:a"))
	assert.Equal(t, []string{"unsubscribe", "conn:push:a", "1"}, log.all()[2])

	// An in-band error reply to the command is Send's error, and the
	// connection stays in step.
	err := c.Send(ctx, "SUBSCRIBE")
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "ERR", re.Code)
	v, err := c.Do(ctx, "ECHO", "still in step")
	require.NoError(t, err)
	assert.Equal(t, "still in step", text(t, v))
}

// TestSendOverRESP2: subscribe confirmations and messages, plain arrays in
// RESP2, reach OnPush as push frames, and only while they can be.
func TestSendOverRESP2(t *testing.T) {
	var log pushLog
	c := dialTest(t, &Options{Protocol: 2, OnPush: log.onPush})
	ctx := testContext(t)
	_, err := c.Do(ctx, "DEL", "conn:resp2:list")
	require.NoError(t, err)
	_, err = c.Do(ctx, "RPUSH", "conn:resp2:list", "message", "conn:resp2:a", "hello")
	require.NoError(t, err)

	require.NoError(t, c.Send(ctx, "SUBSCRIBE", "conn:resp2:a"))
	require.NoError(t, c.Send(ctx, "PSUBSCRIBE", "conn:resp2:p*"))
	_, err = redistest.Server().Do(ctx, "PUBLISH", "conn:resp2:a", "one")
	require.NoError(t, err)
	_, err = redistest.Server().Do(ctx, "PUBLISH", "conn:resp2:pq", "two")
	require.NoError(t, err)

	// In subscribe mode, PING is answered in-band with an array.
	v, err := c.Do(ctx, "PING", "in-band")
	require.NoError(t, err)
	require.Len(t, v.Elems(), 2)
	assert.Equal(t, "in-band", text(t, v.Elems()[1]))
	// Both messages were pushed before the PING's reply.
	require.NoError(t, c.Send(ctx, "UNSUBSCRIBE"))
	require.NoError(t, c.Send(ctx, "PUNSUBSCRIBE"))
	assert.Equal(t, [][]string{
		{"subscribe", "conn:resp2:a", "1"},
		{"psubscribe", "conn:resp2:p*", "2"},
		{"message", "conn:resp2:a", "one"},
		{"pmessage", "conn:resp2:p*", "conn:resp2:pq", "two"},
		{"unsubscribe", "conn:resp2:a", "1"},
		{"punsubscribe", "conn:resp2:p*", "0"},
	}, log.all())
	for _, f := range log.kinds() {
		assert.Equal(t, resp.Push, f, "handed to OnPush as push frames")
	}

	// Out of subscribe mode, an array that looks like a message is a reply.
	v, err = c.Do(ctx, "LRANGE", "conn:resp2:list", "0", "-1")
	require.NoError(t, err)
	assert.Len(t, v.Elems(), 3)
	assert.Len(t, log.all(), 6)

	// RESET leaves subscribe mode, and the Conn knows it.
	require.NoError(t, c.Send(ctx, "SUBSCRIBE", "conn:resp2:a"))
	v, err = c.Do(ctx, "RESET")
	require.NoError(t, err)
	assert.Equal(t, "RESET", text(t, v))
	v, err = c.Do(ctx, "LRANGE", "conn:resp2:list", "0", "-1")
	require.NoError(t, err)
	assert.Len(t, v.Elems(), 3)

	// Shard channels are counted apart.
	before := len(log.all())
	require.NoError(t, c.Send(ctx, "SSUBSCRIBE", "conn:resp2:s"))
	_, err = redistest.Server().Do(ctx, "SPUBLISH", "conn:resp2:s", "three")
	require.NoError(t, err)
	require.NoError(t, c.Send(ctx, "SUNSUBSCRIBE"))
	assert.Equal(t, [][]string{
		{"ssubscribe", "conn:resp2:s", "1"},
		{"smessage", "conn:resp2:s", "three"},
		{"sunsubscribe", "conn:resp2:s", "0"},
	}, log.all()[before:])
	v, err = c.Do(ctx, "LRANGE", "conn:resp2:list", "0", "-1")
	require.NoError(t, err)
	assert.Len(t, v.Elems(), 3)
	assert.ErrorIs(t, c.Send(ctx), errEmptyCommand)
}

// TestPushesBetweenRepliesKeepMatching subscribes a Conn, then runs GETs of
// distinct keys on it while another connection publishes: the messages, which
// arrive between replies, go to OnPush and every GET gets its own value.
func TestPushesBetweenRepliesKeepMatching(t *testing.T) {
	var log pushLog
	c := dialTest(t, &Options{OnPush: log.onPush})
	publisher := dialTest(t, nil)
	ctx := testContext(t)
	require.NoError(t, c.Send(ctx, "SUBSCRIBE", "conn:push:news"))

	const (
		getters   = 16
		rounds    = 200
		published = 500
	)
	for i := range getters {
		_, err := c.Do(ctx, "SET", "conn:push:key:"+strconv.Itoa(i), "value-"+strconv.Itoa(i))
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	for i := range getters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key, want := "conn:push:key:"+strconv.Itoa(i), "value-"+strconv.Itoa(i)
			for range rounds {
				v, err := c.Do(ctx, "GET", key)
				if !assert.NoError(t, err) || !assert.Equal(t, want, text(t, v)) {
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range published {
			_, err := publisher.Do(ctx, "PUBLISH", "conn:push:news", "m"+strconv.Itoa(i))
			if !assert.NoError(t, err) {
				return
			}
		}
	}()
	wg.Wait()
	require.NoError(t, c.Send(ctx, "UNSUBSCRIBE", "conn:push:news"))
	assert.Equal(t, published, log.count("message"), "every message reached OnPush before the UNSUBSCRIBE returned")
	var n int
	for _, f := range log.all() {
		if f[0] == "message" {
			assert.Equal(t, []string{"message", "conn:push:news", "m" + strconv.Itoa(n)}, f)
			n++
		}
	}
}

// TestTrackingInvalidation: with client tracking, a write from another
// connection makes the server push an invalidation between replies.
func TestTrackingInvalidation(t *testing.T) {
	var log pushLog
	c := dialTest(t, &Options{OnPush: log.onPush})
	ctx := testContext(t)
	_, err := c.Do(ctx, "CLIENT", "TRACKING", "ON")
	require.NoError(t, err)
	_, err = c.Do(ctx, "SET", "conn:tracked", "1")
	require.NoError(t, err)
	_, err = c.Do(ctx, "GET", "conn:tracked")
	require.NoError(t, err)

	_, err = redistest.Server().Do(ctx, "SET", "conn:tracked", "2")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		// Each round trip gives the reader a chance to pass the push on.
		v, err := c.Do(ctx, "ECHO", "x")
		return err == nil && text(t, v) == "x" && log.count("invalidate") == 1
	}, 10*time.Second, time.Millisecond)
	v, err := c.Do(ctx, "GET", "conn:tracked")
	require.NoError(t, err)
	assert.Equal(t, "2", text(t, v))
}
