package conn

import (
	"context"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setBurst runs rounds SETs of value from each of callers goroutines at
// once, on distinct keys, and fails the test on any error.
func setBurst(t testing.TB, c *Conn, callers, rounds int, value string) {
	setBurstCtx(context.Background(), t, c, callers, rounds, value)
}

// setBurstCtx is setBurst with every call under ctx.
func setBurstCtx(ctx context.Context, t testing.TB, c *Conn, callers, rounds int, value string) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range callers {
		key := "conn:burst:" + strconv.Itoa(g)
		wg.Go(func() {
			<-start
			for range rounds {
				if _, err := c.Do(ctx, "SET", key, value); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
}

// TestBusyConnKeepsWriteBuffers checks that SETs from 128 goroutines, whose
// batches outgrow maxKeptBuffer, allocate next to nothing per SET once the
// Conn has warmed up: values just below heldMin go into buffers kept from
// earlier batches instead of growing new ones, and bigger ones (1 KiB, the
// issue's, and 16 KiB) are written from the callers' strings, so the
// buffers hold only the commands' headers. 16 KiB values took 2,400 to
// 2,900 bytes per SET when they were copied into buffers grown for batches
// of 2 MiB.
func TestBusyConnKeepsWriteBuffers(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations; run without -race")
	}
	for _, size := range []int{heldMin - 1, 1 << 10, 16 << 10} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			c := dialTest(t, nil)
			value := strings.Repeat("v", size)
			const callers, rounds = 128, 200
			setBurst(t, c, callers, 50, value) // warm up: the buffers grow
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			setBurst(t, c, callers, rounds, value)
			runtime.ReadMemStats(&after)
			perSet := float64(after.TotalAlloc-before.TotalAlloc) / (callers * rounds)
			t.Logf("%.0f bytes allocated per SET of %d bytes from %d goroutines", perSet, size, callers)
			assert.Less(t, perSet, 256.0, "bytes allocated per SET")
		})
	}
}

// TestBusyConnKeepsWriteBuffersCopied is TestBusyConnKeepsWriteBuffers for
// callers whose context can end, whose values are copied into the buffers
// (see Conn.appendCommand): batches of up to 2 MiB of 16 KiB values write
// into buffers kept from earlier batches.
func TestBusyConnKeepsWriteBuffersCopied(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations; run without -race")
	}
	c := dialTest(t, nil)
	ctx := testContext(t)
	value := strings.Repeat("v", 16<<10)
	const callers, rounds = 128, 200
	setBurstCtx(ctx, t, c, callers, 50, value) // warm up: the buffers grow
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	setBurstCtx(ctx, t, c, callers, rounds, value)
	runtime.ReadMemStats(&after)
	perSet := float64(after.TotalAlloc-before.TotalAlloc) / (callers * rounds)
	t.Logf("%.0f bytes allocated per SET of 16 KiB, copied, from %d goroutines", perSet, callers)
	assert.Less(t, perSet, 256.0, "bytes allocated per SET")
}

// TestIdleConnTrimsWriteBuffers checks that the big write buffers a burst
// leaves are kept while the Conn is busy and let go of once it idles, back
// within the idle bound.
func TestIdleConnTrimsWriteBuffers(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	value := strings.Repeat("v", heldMin-1) // into the buffer (see heldMin)
	cmds := make([][]string, 200)           // one batch of 200 KiB
	for i := range cmds {
		cmds[i] = []string{"SET", "conn:trim:" + strconv.Itoa(i), value}
	}
	_, err := c.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	// The write's end, which hands its buffer back, may come just after
	// the replies.
	require.Eventually(t, func() bool { return c.writeBufferBytes() >= len(cmds)*len(value) },
		10*time.Second, time.Millisecond, "the batch's buffer is kept")
	require.Eventually(t, func() bool { return c.writeBufferBytes() <= 2*maxKeptBuffer },
		10*time.Second, 10*time.Millisecond, "an idle Conn trims its write buffers")
	// And it still works.
	_, err = c.DoMulti(ctx, cmds...)
	require.NoError(t, err)
}

// TestTrimWithChecksOff checks that a Conn whose liveness checks are both
// off still trims its write buffers once it idles.
func TestTrimWithChecksOff(t *testing.T) {
	c := dialTest(t, &Options{SilenceTimeout: -1, IdlePing: -1})
	args := []string{"MSET"} // 256 KiB of values that go into the buffer
	for i := range 256 {
		args = append(args, "conn:trim:off:"+strconv.Itoa(i), strings.Repeat("v", heldMin-1))
	}
	_, err := c.Do(testContext(t), args...)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.writeBufferBytes() >= 256*(heldMin-1) },
		10*time.Second, time.Millisecond, "the command's buffer is kept")
	require.Eventually(t, func() bool { return c.writeBufferBytes() <= 2*maxKeptBuffer },
		10*time.Second, 10*time.Millisecond, "an idle Conn trims its write buffers")
}

func TestBufferSizing(t *testing.T) {
	var s bufferSizing
	const bound = 1 << 20
	assert.True(t, s.keep(maxKeptBuffer, bound), "a small buffer is always kept")
	assert.False(t, s.keep(maxKeptBuffer+1, bound), "no batch yet: a bigger one is not")
	s.note(100 << 10)
	assert.True(t, s.keep(200<<10, bound), "twice the recent batches")
	assert.False(t, s.keep(201<<10, bound))
	s.note(1 << 30)
	assert.False(t, s.keep(bound+1, bound), "never beyond the bound")
	s = bufferSizing{}
	s.note(100 << 10)
	for range 20000 {
		s.note(1 << 10)
	}
	assert.False(t, s.keep(2<<10+maxKeptBuffer, bound), "the mark decays with smaller batches: %d", s.high)
}

func TestInspectBatch(t *testing.T) {
	tests := []struct {
		name               string
		cmds               [][]string
		blocking, stateful bool
		err                string
	}{
		{"plain", [][]string{{"GET", "k"}, {"SET", "k", "v"}}, false, false, ""},
		{"blocking", [][]string{{"GET", "k"}, {"BLPOP", "l", "0"}}, true, false, ""},
		{"stateful", [][]string{{"MULTI"}, {"GET", "k"}, {"EXEC"}}, false, true, ""},
		{"empty", [][]string{{"GET", "k"}, {}, {"SELECT", "1"}}, false, true, "conn: empty command"},
		{"first refusal", [][]string{{"SUBSCRIBE", "c"}, {}}, false, false, "conn: SUBSCRIBE is answered by push frames: use Send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := inspectBatch(tt.cmds)
			assert.Equal(t, tt.blocking, info.blocking, "blocking")
			assert.Equal(t, tt.stateful, info.stateful, "stateful, every command looked at")
			if tt.err == "" {
				assert.NoError(t, info.err)
			} else {
				assert.EqualError(t, info.err, tt.err)
			}
		})
	}
}

// TestSynctestPatientCallerWritesItself: over net.Pipe, where a write blocks
// until the server reads it, a DoMulti bigger than maxDirectWrite from a
// caller whose context never ends is written from the caller's own
// goroutine (it would wait for the write anyway), and one whose context can
// end hands it to the writer goroutine, staying free to leave.
func TestSynctestPatientCallerWritesItself(t *testing.T) {
	value := strings.Repeat("v", 1<<10)
	cmds := make([][]string, 2*maxDirectWrite>>10)
	for i := range cmds {
		cmds[i] = []string{"SET", "k", value}
	}
	for _, tc := range []struct {
		name   string
		ctx    func(t *testing.T) context.Context
		writer string // the function that calls flush
	}{
		{"background", func(*testing.T) context.Context { return context.Background() }, "conn.(*Conn).unlock"},
		{"cancellable", func(t *testing.T) context.Context { return t.Context() }, "conn.(*Conn).writeLoop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, server := net.Pipe() // the server never reads
				cn, err := NewConn(t.Context(), client, &Options{Protocol: 2})
				require.NoError(t, err)
				done := make(chan error, 1)
				go func() { _, err := cn.DoMulti(tc.ctx(t), cmds...); done <- err }()
				synctest.Wait()
				assert.Equal(t, tc.writer, flushCaller(t), "who writes the batch")
				require.NoError(t, cn.Close())
				assert.ErrorIs(t, <-done, ErrClosed)
				server.Close()
			})
		})
	}
}

// flushCaller returns the function that called Conn.flush in the stack of
// the goroutine blocked in it, or "" when there is none.
func flushCaller(t *testing.T) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		lines := strings.Split(g, "\n")
		for i, line := range lines {
			if strings.Contains(line, "conn.(*Conn).flush(") {
				// Each frame is a function line and a file line.
				for _, next := range lines[i+2:] {
					if strings.HasPrefix(next, "github.com/respwire/respwire/conn.") {
						name := strings.TrimPrefix(next, "github.com/respwire/respwire/")
						if i := strings.LastIndex(name, "("); i > 0 {
							name = name[:i] // the arguments
						}
						return name
					}
				}
			}
		}
	}
	t.Log(string(buf))
	return ""
}

// TestThreeLetterCommandsArePlain backs inspectBatch's shortcut: no command
// of the server's table whose name has three letters is refused, blocking
// or stateful, in any case.
func TestThreeLetterCommandsArePlain(t *testing.T) {
	c := dialTest(t, nil)
	v, err := c.Do(testContext(t), "COMMAND", "LIST")
	require.NoError(t, err)
	require.NotEmpty(t, v.Elems())
	seen := 0
	for _, e := range v.Elems() {
		name, err := e.Text()
		require.NoError(t, err)
		if len(name) != 3 {
			continue
		}
		seen++
		for _, args := range [][]string{{name}, {strings.ToUpper(name), "k"}} {
			assert.NoError(t, checkCommand(args), name)
			assert.False(t, isBlocking(args), name)
			assert.Equal(t, stateNone, commandState(args), name)
		}
	}
	assert.Greater(t, seen, 5, "GET, SET, DEL, TTL, ... are in the table")
}
