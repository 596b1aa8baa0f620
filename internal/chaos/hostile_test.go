package chaos

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// bystander runs calls on a real server next to a hostile test and counts
// failures: one misbehaving peer must not disturb another connection.
type bystander struct {
	load *Load
}

func startBystander(t *testing.T) *bystander {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil)
	require.NoError(t, err)
	// The calls get 5 s, not the default 1 s: the hostile replies make
	// the race-enabled test binary allocate and collect hundreds of MiB,
	// and a machine already loaded once stalled a call past 1 s. A call
	// stuck behind a hostile connection would still fail.
	b := &bystander{load: NewLoad(c, LoadOptions{Workers: 2, Pace: 5 * time.Millisecond, Deadline: 5 * time.Second, Prefix: "chaos:bystander:" + t.Name()})}
	b.load.Start()
	t.Cleanup(func() {
		require.Eventually(t, func() bool { return b.load.Calls() > 0 }, 5*time.Second, 5*time.Millisecond)
		require.True(t, b.load.Stop())
		c.Close()
		s := b.load.Stats(Mark{})
		require.Positive(t, s.Calls)
		require.Zero(t, s.Failed, "the bystander's calls failed: %q", s.Errors)
		require.Zero(t, s.Crossed)
	})
	return b
}

// memoryDuring runs fn and reports how much was allocated meanwhile
// (TotalAlloc) and the peak growth of the live heap (HeapInuse, sampled
// every few milliseconds), against a baseline taken after a GC. The
// bystander is paced, so its share of both is small.
func memoryDuring(fn func()) (totalAlloc, peakInuse int64) {
	var before, now runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		runtime.ReadMemStats(&now)
		peakInuse = max(peakInuse, int64(now.HeapInuse)-int64(before.HeapInuse))
		select {
		case <-done:
			runtime.ReadMemStats(&now)
			return int64(now.TotalAlloc - before.TotalAlloc), peakInuse
		case <-tick.C:
		}
	}
}

const mib = 1 << 20

func TestHostileServer(t *testing.T) {
	startBystander(t)
	nested := strings.Repeat("*1\r\n", 1<<20) // a million levels deep, 4 MiB
	tests := []struct {
		name     string
		steps    []fakeserver.Step
		protocol bool  // the error must wrap resp.ErrProtocol
		maxAlloc int64 // bound on TotalAlloc during the call
	}{
		{
			name:     "oversized bulk length",
			steps:    []fakeserver.Step{fakeserver.ReplyRaw([]byte("$1000000000000\r\n"))},
			protocol: true, maxAlloc: 4 * mib,
		},
		{
			// Collections grow as elements arrive: a huge declared
			// count within resp's element limit costs nothing up front.
			name:     "huge array length, two elements sent",
			steps:    []fakeserver.Step{fakeserver.ReplyRaw([]byte("*2000000000\r\n:1\r\n:2\r\n"))},
			maxAlloc: 4 * mib,
		},
		{
			name:     "huge map length, nothing sent",
			steps:    []fakeserver.Step{fakeserver.ReplyRaw([]byte("%2000000000\r\n"))},
			maxAlloc: 4 * mib,
		},
		{
			name: "bulk length within limits, body never sent",
			steps: []fakeserver.Step{
				fakeserver.ReplyRaw([]byte("$500000000\r\nabc")),
			},
			maxAlloc: 8 * mib,
		},
		{
			name:     "endless nesting",
			steps:    []fakeserver.Step{fakeserver.ReplyRaw([]byte(nested))},
			protocol: true, maxAlloc: 16 * mib,
		},
		{
			name: "endless streamed chunks",
			steps: []fakeserver.Step{fakeserver.Do("stream", func(c *fakeserver.Conn) error {
				if err := c.WriteRaw([]byte("$?\r\n")); err != nil {
					return err
				}
				chunk := []byte(";65536\r\n" + strings.Repeat("x", 65536) + "\r\n")
				for range 256 { // 16 MiB, then silence
					if err := c.WriteRaw(chunk); err != nil {
						return err
					}
				}
				return nil
			})},
			maxAlloc: 48 * mib, // 16 MiB sent: the string being built, and its last growth
		},
		{
			// Every element costs a 64-byte decoded Value, far more
			// than its four bytes on the wire: resp bounds it linearly
			// (see TestSmallElementsAmplify).
			name: "endless streamed array of small integers",
			steps: []fakeserver.Step{fakeserver.Do("stream", func(c *fakeserver.Conn) error {
				elems := []byte(strings.Repeat(":1\r\n", 1<<16)) // 256 KiB
				if err := c.WriteRaw([]byte("*?\r\n")); err != nil {
					return err
				}
				for range 4 { // 1 MiB, 262144 elements, then silence
					if err := c.WriteRaw(elems); err != nil {
						return err
					}
				}
				return nil
			})},
			maxAlloc: 128 * mib,
		},
		{
			name: "reply that never ends",
			steps: []fakeserver.Step{
				fakeserver.ReplyRaw([]byte("*3\r\n:1\r\n$5\r\nab")),
			},
			maxAlloc: 4 * mib,
		},
		{
			name:     "garbage type byte",
			steps:    []fakeserver.Step{fakeserver.ReplyRaw([]byte("@what\r\n"))},
			protocol: true, maxAlloc: 4 * mib,
		},
		{
			name:     "negative length",
			steps:    []fakeserver.Step{fakeserver.ReplyRaw([]byte("$-7\r\n"))},
			protocol: true, maxAlloc: 4 * mib,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := append([]fakeserver.Step{fakeserver.AcceptHello(), fakeserver.Expect("GET", "k")}, tt.steps...)
			steps = append(steps, fakeserver.Stall(nil)) // until the client hangs up
			s := fakeserver.Start(t).Script(steps...)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			// The script serves one connection: no liveness probe may
			// dial a second one (the stall is the script's, on purpose).
			c, err := conn.Dial(ctx, s.Addr(), &conn.Options{SilenceTimeout: -1})
			require.NoError(t, err)
			defer c.Close()

			var callErr error
			var v resp.Value
			start := time.Now()
			total, live := memoryDuring(func() {
				callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				v, callErr = c.Do(callCtx, "GET", "k")
			})
			t.Logf("err=%v after %v; TotalAlloc +%d KiB, peak HeapInuse +%d KiB", callErr, time.Since(start).Round(time.Millisecond), total/1024, live/1024)
			require.Error(t, callErr, "got a value: %s", v.String())
			require.Less(t, time.Since(start), 4*time.Second, "the call outlived its deadline")
			if tt.protocol {
				require.ErrorIs(t, callErr, resp.ErrProtocol)
			}
			require.Less(t, total, tt.maxAlloc, "allocated too much for what the peer sent")
			require.Less(t, live, tt.maxAlloc, "kept too much")
		})
	}
}

// TestBytesAfterFatalFrame: after a malformed frame the connection is dead;
// a well-formed reply that follows it in the same write must reach nobody.
func TestBytesAfterFatalFrame(t *testing.T) {
	startBystander(t)
	s := fakeserver.Start(t).Script(
		fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "a"),
		fakeserver.Expect("GET", "b"),
		fakeserver.ReplyRaw([]byte("@bad\r\n$5\r\nhello\r\n$5\r\nworld\r\n")),
		fakeserver.Stall(nil),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := conn.Dial(ctx, s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()
	vs, err := c.DoMulti(ctx, []string{"GET", "a"}, []string{"GET", "b"})
	require.ErrorIs(t, err, resp.ErrProtocol)
	for _, v := range vs {
		text, _ := v.Text()
		require.NotContains(t, []string{"hello", "world"}, text, "bytes after a fatal frame were delivered")
	}
	<-c.Done()
	_, err = c.Do(ctx, "GET", "a")
	require.ErrorIs(t, err, conn.ErrClosed)
}

// TestHostileClientRecovers: a conn.Client whose server sent garbage drops
// that connection and serves the next call on a fresh one.
func TestHostileClientRecovers(t *testing.T) {
	s := fakeserver.Start(t).Script(
		fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "k"),
		fakeserver.ReplyRaw([]byte("$1000000000000\r\n")),
	).Script(
		fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "k"),
		fakeserver.Reply(resp.NewBulkString("fine")),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := conn.NewClient(ctx, s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(ctx, "GET", "k")
	require.ErrorIs(t, err, resp.ErrProtocol)
	var v resp.Value
	var mu sync.Mutex
	require.Eventually(t, func() bool {
		got, err := c.Do(ctx, "GET", "k")
		mu.Lock()
		defer mu.Unlock()
		v = got
		return err == nil || !errors.Is(err, conn.ErrClosed)
	}, 5*time.Second, 20*time.Millisecond)
	text, err := v.Text()
	require.NoError(t, err)
	require.Equal(t, "fine", text)
}
