package conn

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setBurst runs rounds SETs of value from each of callers goroutines at
// once, on distinct keys, and fails the test on any error.
func setBurst(t testing.TB, c *Conn, callers, rounds int, value string) {
	ctx := context.Background()
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

// TestBusyConnKeepsWriteBuffers checks that SETs of 1 KiB values from 128
// goroutines, whose batches outgrow maxKeptBuffer, write into buffers kept
// from earlier batches instead of growing new ones: next to nothing is
// allocated per SET once the Conn has warmed up.
func TestBusyConnKeepsWriteBuffers(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations; run without -race")
	}
	c := dialTest(t, nil)
	value := strings.Repeat("v", 1<<10)
	const callers, rounds = 128, 200
	setBurst(t, c, callers, 50, value) // warm up: the buffers grow
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	setBurst(t, c, callers, rounds, value)
	runtime.ReadMemStats(&after)
	perSet := float64(after.TotalAlloc-before.TotalAlloc) / (callers * rounds)
	t.Logf("%.0f bytes allocated per SET of 1 KiB from %d goroutines", perSet, callers)
	assert.Less(t, perSet, 256.0, "bytes allocated per SET")
}

// TestIdleConnTrimsWriteBuffers checks that the big write buffers a burst
// leaves are kept while the Conn is busy and let go of once it idles, back
// within the idle bound.
func TestIdleConnTrimsWriteBuffers(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	value := strings.Repeat("v", 1<<10)
	cmds := make([][]string, 200) // one batch of 200 KiB
	for i := range cmds {
		cmds[i] = []string{"SET", "conn:trim:" + strconv.Itoa(i), value}
	}
	_, err := c.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	// The write's end, which hands its buffer back, may come just after
	// the replies.
	require.Eventually(t, func() bool { return c.writeBufferBytes() >= len(cmds)<<10 },
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
	big := strings.Repeat("v", 256<<10)
	_, err := c.Do(testContext(t), "SET", "conn:trim:off", big)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.writeBufferBytes() >= len(big) },
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
	for range 2000 {
		s.note(1 << 10)
	}
	assert.False(t, s.keep(2<<10+maxKeptBuffer, bound), "the mark decays with smaller batches: %d", s.high)
}
