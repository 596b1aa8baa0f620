package conn

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/internal/repeatreader"
	"github.com/respwire/respwire/resp"
)

// TestReadBufferFollowsLoad checks that a Conn reading replies faster than
// its small buffer holds grows its read buffer, that every reply still
// arrives whole and in order, and that the buffer goes back to
// readBufferSize once the Conn idles.
func TestReadBufferFollowsLoad(t *testing.T) {
	ctx := context.Background()
	c, err := Dial(ctx, redistest.Server().Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, readBufferSize, c.readBufferBytes())

	const keys = 40
	gets := make([][]string, keys)
	for i := range keys {
		key := "conn:readsizing:" + strconv.Itoa(i)
		_, err := c.Do(ctx, "SET", key, strings.Repeat(strconv.Itoa(i%10), 16<<10+i))
		require.NoError(t, err)
		gets[i] = []string{"GET", key}
	}
	// 40 replies of 16 KiB and more in one go, 640 KiB: the first read
	// fills the 16 KiB buffer (a reply alone does not fit in it).
	vals, err := c.DoMulti(ctx, gets...)
	require.NoError(t, err)
	for i, v := range vals {
		s, err := v.Text()
		require.NoError(t, err)
		require.Equal(t, strings.Repeat(strconv.Itoa(i%10), 16<<10+i), s, "reply %d", i)
	}
	// The reader goroutine may already have taken the socket back, idle,
	// and shrunk the buffer: count the growth, not the size now.
	// How far it grows depends on how much each read finds waiting:
	// 16 → 64 KiB at least, → 256 → 512 KiB at most.
	grows := c.readGrows.Load()
	assert.True(t, grows >= 1 && grows <= 3, "a busy Conn's read buffer grows 1 to 3 times, not %d", grows)

	// Idle for a window of the reader goroutine: it takes the socket
	// back with a small buffer.
	require.Eventually(t, func() bool { return c.readBufferBytes() == readBufferSize },
		10*time.Second, time.Millisecond, "an idle Conn's read buffer shrinks back")
	_, err = c.Do(ctx, "PING")
	require.NoError(t, err)
}

// TestReadChunksLetGo checks that the chunks a Conn's reader keeps from a
// long value, for the next one, are let go once the Conn idles, and at once
// on a Conn with OnPush (which never idles that way), so that neither holds
// more than its buffer afterwards.
func TestReadChunksLetGo(t *testing.T) {
	ctx := context.Background()
	const size = 1 << 20
	key := "conn:readsizing:long"
	value := strings.Repeat("L", size)
	for _, tc := range []struct {
		name string
		opts *Options
	}{
		{"idle", nil},
		{"OnPush", &Options{OnPush: func(resp.Value) {}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Dial(ctx, redistest.Server().Addr, tc.opts)
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Do(ctx, "SET", key, value)
			require.NoError(t, err)
			v, err := c.Do(ctx, "GET", key)
			require.NoError(t, err)
			got, err := v.Text()
			require.NoError(t, err)
			require.True(t, got == value, "the long value differs")
			require.Eventually(t, func() bool { return c.readSizing.kept.Load() == 0 },
				10*time.Second, time.Millisecond, "the reader still keeps %d bytes of chunks", c.readSizing.kept.Load())
			_, err = c.Do(ctx, "PING")
			require.NoError(t, err)
		})
	}
}

// TestLongValuesKeepChunks: a Conn reading long values one after another
// keeps the chunks its reader reads each value's first quarter into, from
// one value to the next, instead of letting them go and allocating them
// again: reads that bring a whole buffer's worth of a long body are busy,
// not calm. (When they counted as calm, the chunks were let go every few
// dozen GETs, and those of 16 MiB values, 4 MiB, every GET or two.)
func TestLongValuesKeepChunks(t *testing.T) {
	ctx := context.Background()
	// 300 KiB values come in pieces shorter than a 512 KiB buffer's
	// quarter, and never in a read with more room than that buffer.
	for _, size := range []int{300 << 10, 1 << 20} {
		c := dialTest(t, nil)
		const gets = 300
		key := "conn:readsizing:long:" + strconv.Itoa(size)
		_, err := c.Do(ctx, "SET", key, strings.Repeat("M", size))
		require.NoError(t, err)
		for range gets {
			_, err := c.Do(ctx, "GET", key)
			require.NoError(t, err)
		}
		// An idle Conn lets them go, and a loaded machine may pause this
		// goroutine long enough between two GETs: only calm reads count.
		assert.Zero(t, c.readSizing.calmTrims.Load(), "times calm reads let the chunks go during %d GETs of %d bytes", gets, size)
	}
}

// TestReadBufferSteps drives sizeReadBuffer with the sizes of the reads a
// busy Conn makes, as countedReads reports them. A load that fills the
// buffer now and then, with reads of a quarter of it or more between,
// keeps its size: the buffer is not let go and allocated again after
// every calmReads reads short of full (as it was, between 16 and 64 KiB,
// when any read short of full counted as calm). Reads of less than a quarter, calmReads in a
// row, shrink it one step; readBufferSize is the floor.
func TestReadBufferSteps(t *testing.T) {
	c := &Conn{}
	c.rd = resp.NewReaderSize(&c.sock, readBufferSize)
	read := func(n int) {
		c.sock.n.Add(1)
		c.sock.most = min(n, c.rd.Size())
		c.sock.filled = n >= c.rd.Size()
		c.sizeReadBuffer()
	}
	read(readBufferSize)
	read(4 * readBufferSize)
	read(16 * readBufferSize)
	require.Equal(t, maxReadBuffer, c.rd.Size(), "three full reads: x")
	read(maxReadBuffer)
	assert.Equal(t, int64(3), c.readGrows.Load(), "no growth past maxReadBuffer")

	for i := range 20 * calmReads {
		if i%(2*calmReads) == 0 {
			read(maxReadBuffer) // full now and then
		} else {
			read(maxReadBuffer/readGrowth + i%1000)
		}
	}
	assert.Equal(t, maxReadBuffer, c.rd.Size(), "a steady load keeps the buffer")
	assert.Equal(t, int64(3), c.readGrows.Load(), "and allocates none")

	for range calmReads - 1 {
		read(100)
	}
	assert.Equal(t, maxReadBuffer, c.rd.Size(), "calmReads-1 short reads")
	read(100)
	assert.Equal(t, maxReadBuffer/readGrowth, c.rd.Size(), "calmReads short reads: one step down")
	for range 10 * calmReads {
		read(100)
	}
	assert.Equal(t, readBufferSize, c.rd.Size(), "down to readBufferSize, no further")
}

// TestLongValuesLeaveTheBufferSmall checks that GETs of a 1 MiB value, whose
// bytes fill every read, do not grow a Conn's read buffer: a bigger buffer
// would hold no more replies, only put more of each value through one more
// copy. (Reads straight into the value's memory grew it to 512 KiB.)
func TestLongValuesLeaveTheBufferSmall(t *testing.T) {
	ctx := context.Background()
	c := dialTest(t, nil)
	const key = "conn:readsizing:onelong"
	value := strings.Repeat("L", 1<<20)
	_, err := c.Do(ctx, "SET", key, value)
	require.NoError(t, err)
	for i := range 30 {
		v, err := c.Do(ctx, "GET", key)
		require.NoError(t, err)
		s, err := v.Text()
		require.NoError(t, err)
		require.Equal(t, len(value), len(s), "GET %d", i)
	}
	assert.Zero(t, c.readGrows.Load(), "growths of the read buffer")
	assert.Equal(t, readBufferSize, c.readBufferBytes())
}

// TestLongValuesShrinkAGrownBuffer drives sizeReadBuffer over reads of
// 200 KiB values, longer than longValue, each filling the reads it takes,
// on a buffer a load of short replies had grown to maxReadBuffer: they do
// not grow it further, count as calm above readBufferSize (calmReads of them
// take it down a step), and at readBufferSize keep the chunks the reader
// holds for long bodies.
func TestLongValuesShrinkAGrownBuffer(t *testing.T) {
	const valueLen = 200 << 10
	require.Greater(t, valueLen, longValue)
	c := &Conn{}
	src := repeatreader.New("$" + strconv.Itoa(valueLen) + "\r\n" + strings.Repeat("v", valueLen) + "\r\n")
	c.rd = resp.NewReaderSize(src, readBufferSize)
	c.rd.Resize(maxReadBuffer)
	next := func() {
		v, err := c.rd.Read()
		require.NoError(t, err)
		require.Equal(t, resp.BulkString, v.Kind())
		c.sock.n.Add(1)
		c.sock.most, c.sock.filled = c.rd.Size(), true
		c.sizeReadBuffer()
	}
	for range calmReads - 1 {
		next()
	}
	assert.Equal(t, maxReadBuffer, c.rd.Size(), "calmReads-1 long values")
	next()
	assert.Equal(t, maxReadBuffer/readGrowth, c.rd.Size(), "calmReads long values: one step down")
	for range 4 * calmReads {
		next()
	}
	assert.Equal(t, readBufferSize, c.rd.Size(), "down to readBufferSize")
	assert.Zero(t, c.readGrows.Load(), "growths")
	assert.NotZero(t, c.rd.Retained(), "the chunks for long bodies are kept")
	assert.Zero(t, c.readSizing.calmTrims.Load())
}
