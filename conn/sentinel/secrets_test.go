package sentinel

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// textRecorder keeps every event its Hooks get, printed with %+v.
type textRecorder struct {
	mu    sync.Mutex
	texts []string
}

func (r *textRecorder) add(e any) {
	r.mu.Lock()
	r.texts = append(r.texts, fmt.Sprintf("%T %+v", e, e))
	r.mu.Unlock()
}

func (r *textRecorder) hooks() *conn.Hooks {
	return &conn.Hooks{
		Command:   func(_ context.Context, e conn.CommandEvent) { r.add(e) },
		Pipeline:  func(_ context.Context, e conn.PipelineEvent) { r.add(e) },
		Dial:      func(_ context.Context, e conn.DialEvent) { r.add(e) },
		State:     func(e conn.StateEvent) { r.add(e) },
		Redial:    func(e conn.RedialEvent) { r.add(e) },
		Statement: true,
	}
}

func (r *textRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.texts...)
}

// TestLogsAndHooksNeverShowPasswords: with passwords on the sentinels and
// on the data nodes, hooks with Statement on both kinds of connection and
// a Debug logger, through calls, a failover the Client follows, commands
// that carry a password as an argument, and Clients refused for a wrong
// password, no event (printed with %+v) and no log record holds a
// password.
func TestLogsAndHooksNeverShowPasswords(t *testing.T) {
	ctx := testContext(t)
	const masterPass, sentinelPass = "Mstr-pw-8813-secret", "Sntl-pw-4471-secret"
	d := redistest.NewSentinel(t, redistest.SentinelOptions{Password: masterPass, SentinelPassword: sentinelPass})
	var logs logRecorder
	var events textRecorder
	opts := Options{
		MasterName: d.MasterName,
		Addrs:      d.SentinelAddrs(),
		Sentinel:   conn.Options{Password: sentinelPass, Hooks: events.hooks(), Logger: slog.New(&logs)},
		Conn:       conn.Options{Password: masterPass, Hooks: events.hooks(), Logger: slog.New(&logs)},
	}
	c, err := New(ctx, &opts)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(ctx, "SET", "secrets", "1")
	require.NoError(t, err)
	// Commands whose arguments are passwords: their Statement is redacted.
	_, err = c.Do(ctx, "AUTH", masterPass)
	assert.Error(t, err, "AUTH is refused on the shared Conn, or answered")
	require.NoError(t, c.Dedicated(ctx, func(cn *conn.Conn) error {
		if _, err := cn.Do(ctx, "AUTH", masterPass); err != nil {
			return err
		}
		_, err := cn.Do(ctx, "CONFIG", "SET", "masterauth", masterPass)
		return err
	}))

	old := c.MasterAddr()
	to, err := d.Failover(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.MasterAddr() == to.Addr }, 30*time.Second, 10*time.Millisecond,
		"the Client follows the failover from %s", old)
	_, err = c.Do(ctx, "SET", "secrets", "2")
	require.NoError(t, err)

	for _, change := range []func(o *Options){
		func(o *Options) { o.Sentinel.Password = "wrong-" + sentinelPass },
		func(o *Options) { o.Conn.Password = "wrong-" + masterPass },
	} {
		o := opts
		change(&o)
		short, cancel := context.WithTimeout(ctx, 3*time.Second)
		bad, err := New(short, &o)
		cancel()
		require.Error(t, err)
		assert.Nil(t, bad)
	}
	require.NoError(t, c.Close())

	texts := append(events.all(), logs.all()...)
	require.NotEmpty(t, logs.all())
	require.NotEmpty(t, events.all())
	for _, text := range texts {
		for _, secret := range []string{masterPass, sentinelPass, "pw-8813", "pw-4471"} {
			require.False(t, strings.Contains(text, secret), "an event or log record shows a password: %s", text)
		}
	}
	t.Logf("%d events and %d log records searched", len(events.all()), len(logs.all()))
}
