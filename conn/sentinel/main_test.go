package sentinel

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	redistest.Main(m, redistest.NeedSentinel)
}

// testTimeout bounds every test's calls, so a bug fails a test instead of
// hanging the run.
const testTimeout = time.Minute

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newTestClient makes a Client for the package's deployment and closes it
// when the test ends.
func newTestClient(t testing.TB, opts *Options) *Client {
	t.Helper()
	s := redistest.Sentinel()
	o := Options{MasterName: s.MasterName, Addrs: s.SentinelAddrs()}
	if opts != nil {
		o = *opts
	}
	c, err := New(testContext(t), &o)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// resetAfter resets the deployment when the test ends, after its faults.
func resetAfter(t testing.TB) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		require.NoError(t, redistest.Sentinel().Reset(ctx))
	})
}

// switchWatch listens to +switch-master on every sentinel of the deployment,
// as an independent witness of when the switch was announced.
type switchWatch struct {
	mu    sync.Mutex
	first time.Time
	to    string
	seen  chan struct{}
	once  sync.Once
}

func watchSwitches(t testing.TB) *switchWatch {
	t.Helper()
	w := &switchWatch{seen: make(chan struct{})}
	ctx := testContext(t)
	for _, addr := range redistest.Sentinel().SentinelAddrs() {
		cn, err := conn.Dial(ctx, addr, &conn.Options{OnPush: w.onPush})
		require.NoError(t, err)
		t.Cleanup(func() { cn.Close() })
		require.NoError(t, cn.Send(ctx, "SUBSCRIBE", "+switch-master"))
	}
	return w
}

func (w *switchWatch) onPush(v resp.Value) {
	e := v.Elems()
	if len(e) != 3 {
		return
	}
	if kind, _ := e[0].Text(); kind != "message" {
		return
	}
	if ch, _ := e[1].Text(); ch != "+switch-master" {
		return
	}
	now := time.Now()
	payload, _ := e[2].Text()
	f := strings.Fields(payload)
	w.once.Do(func() {
		w.mu.Lock()
		w.first = now
		if len(f) == 5 {
			w.to = net.JoinHostPort(f[3], f[4])
		}
		w.mu.Unlock()
		close(w.seen)
	})
}

// wait returns when the first announcement was made and the new master.
func (w *switchWatch) wait(t testing.TB, ctx context.Context) (time.Time, string) {
	t.Helper()
	select {
	case <-w.seen:
	case <-ctx.Done():
		t.Fatal("no +switch-master announced")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first, w.to
}

// clientSwitches records when c finished moving to another master.
func clientSwitches(c *Client) <-chan time.Time {
	ch := make(chan time.Time, 16)
	fn := func(old, new string) {
		select {
		case ch <- time.Now():
		default:
		}
	}
	c.dir.onSwitch.Store(&fn)
	return ch
}
