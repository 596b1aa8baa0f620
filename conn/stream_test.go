package conn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// randomValue is n bytes that differ from one position to the next, so a
// streamed copy that drops, repeats or swaps a piece is caught.
func randomValue(n int, seed uint64) string {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return string(b)
}

// setValue stores value at a key of the test's and returns the key.
func setValue(t *testing.T, c *Conn, name, value string) string {
	t.Helper()
	k := clientKey(t, name)
	_, err := c.Do(testContext(t), "SET", k, value)
	require.NoError(t, err)
	return k
}

// TestDoStreamBytes: DoStream writes exactly the value's bytes, at sizes
// around the read buffer and the chunk, read by the caller itself (a
// context that never ends) and by the reader goroutine (one with a
// deadline); DoBuffer appends them to what the buffer held.
func TestDoStreamBytes(t *testing.T) {
	c := dialTest(t, nil)
	for i, size := range []int{0, 1, readBufferSize - 20, readBufferSize + 7, 64<<10 + 1, 1<<20 + 3, 16 << 20} {
		value := randomValue(size, uint64(i))
		k := setValue(t, c, "v"+strconv.Itoa(size), value)
		for _, ctx := range []context.Context{context.Background(), testContext(t)} {
			var buf bytes.Buffer
			n, err := c.DoStream(ctx, &buf, "GET", k)
			require.NoError(t, err)
			assert.Equal(t, int64(size), n)
			require.Equal(t, len(value), buf.Len())
			assert.True(t, buf.String() == value, "the streamed bytes of %d differ", size)

			got, err := c.DoBuffer(ctx, []byte("prefix:"), "GET", k)
			require.NoError(t, err)
			assert.True(t, string(got) == "prefix:"+value, "DoBuffer of %d", size)

			exact := make([]byte, 0, size+1)
			got, err = c.DoBuffer(ctx, exact, "GET", k)
			require.NoError(t, err)
			assert.True(t, string(got) == value, "DoBuffer of %d into its own size", size)
			assert.Same(t, unsafe.SliceData(exact[:1]), unsafe.SliceData(got), "DoBuffer of %d took a new array", size)
		}
	}
}

// TestDoStreamNotBulk: a reply that is not a bulk string is not written: a
// null is resp.ErrNull, an error reply its *resp.Error, another kind an
// error naming it.
func TestDoStreamNotBulk(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	list := clientKey(t, "list")
	_, err := c.Do(ctx, "RPUSH", list, "a")
	require.NoError(t, err)
	var buf bytes.Buffer

	n, err := c.DoStream(ctx, &buf, "GET", clientKey(t, "missing"))
	assert.ErrorIs(t, err, resp.ErrNull)
	assert.Zero(t, n)

	_, err = c.DoStream(ctx, &buf, "GET", list)
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "WRONGTYPE", re.Code)

	_, err = c.DoStream(ctx, &buf, "LLEN", list)
	assert.ErrorIs(t, err, ErrNotBulk)
	assert.ErrorContains(t, err, "integer")
	assert.Zero(t, buf.Len())

	got, err := c.DoBuffer(ctx, []byte("keep"), "GET", clientKey(t, "missing"))
	assert.ErrorIs(t, err, resp.ErrNull)
	assert.Equal(t, "keep", string(got))
}

// TestDoStreamBesideOtherCallers: streams of a 4 MiB value run beside many
// goroutines' small calls on the same Conn; every reply lands with its own
// caller, streamed or not.
func TestDoStreamBesideOtherCallers(t *testing.T) {
	c := dialTest(t, nil)
	value := randomValue(4<<20, 7)
	k := setValue(t, c, "big", value)
	var wg sync.WaitGroup
	for g := range 6 {
		ctx := context.Background()
		if g%2 == 1 {
			ctx = testContext(t)
		}
		wg.Go(func() {
			for i := range 200 {
				want := strconv.Itoa(g) + ":" + strconv.Itoa(i)
				v, err := c.Do(ctx, "ECHO", want)
				if !assert.NoError(t, err) || !assert.Equal(t, want, text(t, v)) {
					return
				}
			}
		})
	}
	for g := range 2 {
		ctx := context.Background()
		if g == 1 {
			ctx = testContext(t)
		}
		wg.Go(func() {
			for range 5 {
				var buf bytes.Buffer
				n, err := c.DoStream(ctx, &buf, "GET", k)
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, int64(len(value)), n)
				assert.True(t, buf.String() == value, "a streamed copy differs")
			}
		})
	}
	wg.Wait()
}

// stepWriter calls at on every Write, with the bytes taken before it, and
// fails the Write when at returns an error. It records a Write that comes
// after the test marked the call returned.
type stepWriter struct {
	took     int
	at       func(took int) error
	returned atomic.Bool
	late     atomic.Bool
}

func (w *stepWriter) Write(p []byte) (int, error) {
	if w.returned.Load() {
		w.late.Store(true)
	}
	if err := w.at(w.took); err != nil {
		return 0, err
	}
	w.took += len(p)
	return len(p), nil
}

// headLeft reports whether the caller of c's oldest written request, a
// DoStream, has left.
func headLeft(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.pending.oldest()
	return r != nil && r.stream != nil && r.stream.gone.Load()
}

// TestDoStreamContextEnds: the context ending mid-stream makes DoStream
// return ctx.Err(); the writer is not called again, the rest of the reply
// is read and dropped, and the Conn answers the next calls right.
func TestDoStreamContextEnds(t *testing.T) {
	c := dialTest(t, nil)
	value := randomValue(8<<20, 3)
	k := setValue(t, c, "big", value)
	for range 3 {
		ctx, cancel := context.WithCancel(testContext(t))
		w := &stepWriter{at: func(took int) error {
			if took >= 256<<10 && ctx.Err() == nil {
				// Mid-stream: end the context, and go on only once the
				// caller has left, so the rest of the value is
				// certainly read after it.
				cancel()
				assert.Eventually(t, func() bool { return headLeft(c) }, lentWait, 20*time.Microsecond)
			}
			return nil
		}}
		n, err := c.DoStream(ctx, w, "GET", k)
		w.returned.Store(true)
		require.ErrorIs(t, err, context.Canceled)
		assert.GreaterOrEqual(t, n, int64(256<<10))
		assert.Less(t, n, int64(256<<10+2*65536), "the writer took more after the caller left")

		v, err := c.Do(testContext(t), "ECHO", "after")
		require.NoError(t, err)
		assert.Equal(t, "after", text(t, v))
		var buf bytes.Buffer
		_, err = c.DoStream(context.Background(), &buf, "GET", k)
		require.NoError(t, err)
		assert.True(t, buf.String() == value)
		assert.False(t, w.late.Load(), "the writer was called after DoStream returned")
		assert.Equal(t, StateOpen, c.State())
	}
}

// TestDoStreamWriterFails: a writer that fails mid-stream ends the copy:
// DoStream returns its error with the bytes it took, and the Conn, in step,
// answers the next calls right.
func TestDoStreamWriterFails(t *testing.T) {
	c := dialTest(t, nil)
	value := randomValue(2<<20, 5)
	k := setValue(t, c, "big", value)
	errDisk := errors.New("disk full")
	for _, ctx := range []context.Context{context.Background(), testContext(t)} {
		w := &stepWriter{at: func(took int) error {
			if took >= 100<<10 {
				return errDisk
			}
			return nil
		}}
		n, err := c.DoStream(ctx, w, "GET", k)
		require.ErrorIs(t, err, errDisk)
		var we *resp.WriteError
		assert.ErrorAs(t, err, &we)
		assert.Equal(t, int64(w.took), n)
		assert.GreaterOrEqual(t, n, int64(100<<10))

		v, err := c.Do(ctx, "ECHO", "after")
		require.NoError(t, err)
		assert.Equal(t, "after", text(t, v))
		assert.Equal(t, StateOpen, c.State())
	}
}

// failingBuffer is a bytes.Buffer (so an io.ReaderFrom) whose ReadFrom
// fails once it holds ok bytes.
type failingBuffer struct {
	bytes.Buffer
	ok int
}

func (b *failingBuffer) ReadFrom(src io.Reader) (int64, error) {
	n, err := b.Buffer.ReadFrom(io.LimitReader(src, int64(b.ok-b.Len())))
	if err == nil {
		err = errors.New("buffer full")
	}
	return n, err
}

// TestDoStreamReaderFromFails: a writer that reads the body from the
// socket itself (a caller whose context never ends) and fails mid-body: the
// error comes back, the rest is dropped and the Conn answers the next call.
func TestDoStreamReaderFromFails(t *testing.T) {
	c := dialTest(t, nil)
	value := randomValue(1<<20, 11)
	k := setValue(t, c, "big", value)
	ctx := context.Background()
	w := &failingBuffer{ok: 300 << 10}
	n, err := c.DoStream(ctx, w, "GET", k)
	require.ErrorContains(t, err, "buffer full")
	var we *resp.WriteError
	assert.ErrorAs(t, err, &we)
	assert.LessOrEqual(t, n, int64(300<<10))
	assert.True(t, w.String() == value[:w.Len()], "what it took is the value's start")

	var whole bytes.Buffer
	_, err = c.DoStream(ctx, &whole, "GET", k)
	require.NoError(t, err)
	assert.True(t, whole.String() == value)
	assert.Equal(t, StateOpen, c.State())
}

// TestDoStreamServerDiesMidBulk: the server closing the connection halfway
// through a bulk string closes the Conn; DoStream returns an error wrapping
// ErrClosed and io.ErrUnexpectedEOF, with the bytes that did arrive written.
func TestDoStreamServerDiesMidBulk(t *testing.T) {
	s := fakeserver.Start(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "k"),
		fakeserver.ReplyRaw([]byte("$100000\r\n"), bytes.Repeat([]byte("x"), 30000)),
		fakeserver.Close())
	c, err := Dial(testContext(t), s.Addr(), nil)
	require.NoError(t, err)
	defer c.Close()
	var buf bytes.Buffer
	n, err := c.DoStream(testContext(t), &buf, "GET", "k")
	require.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, int64(30000), n)
	assert.Equal(t, 30000, buf.Len())
	<-c.Done()
}

// TestDoStreamOrderings: a push frame before the streamed reply is handed
// on and the reply still streamed; a reply right behind it, in the same
// segment, reaches its own caller.
func TestDoStreamOrderings(t *testing.T) {
	pushes := make(chan resp.Value, 1)
	s := fakeserver.Start(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "k"), fakeserver.Expect("ECHO", "next"),
		fakeserver.ReplyRaw([]byte(">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n$5\r\nhello\r\n$4\r\nnext\r\n")),
		fakeserver.Stall(nil))
	c, err := Dial(testContext(t), s.Addr(), &Options{OnPush: func(v resp.Value) { pushes <- v }})
	require.NoError(t, err)
	defer c.Close()
	ctx := testContext(t)
	var buf bytes.Buffer
	var n int64
	var next resp.Value
	var wg sync.WaitGroup
	wg.Go(func() {
		n, err = c.DoStream(ctx, &buf, "GET", "k")
	})
	// The ECHO must be written after the GET: wait until the GET is queued.
	require.Eventually(t, func() bool { return c.streams.Load() == 1 }, lentWait, 20*time.Microsecond)
	next, nextErr := c.Do(ctx, "ECHO", "next")
	wg.Wait()
	require.NoError(t, err)
	assert.Equal(t, int64(5), n)
	assert.Equal(t, "hello", buf.String())
	require.NoError(t, nextErr)
	assert.Equal(t, "next", text(t, next))
	assert.Equal(t, resp.Push, (<-pushes).Kind())
}

// TestDoStreamAllocations: a streamed 1 MiB value costs a few small
// allocations, none of the value's size. (The pooled chunk it is read
// through is made again after a collection empties the pool: 64 KiB over
// the calls in between.)
func TestDoStreamAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c := dialTest(t, nil)
	k := setValue(t, c, "big", randomValue(1<<20, 9))
	buf := bytes.NewBuffer(make([]byte, 0, 1<<20))
	ctx := context.Background()
	get := func() {
		buf.Reset()
		_, err := c.DoStream(ctx, buf, "GET", k)
		require.NoError(t, err)
	}
	// The first calls fill the pool and grow the read buffer, as far as
	// what each read finds waiting takes it: a growth is the Conn's
	// cost, once, not the value's. A measurement during which the
	// buffer grew again is made once more.
	for range 3 {
		get()
	}
	const calls = 50
	var perCall uint64
	for attempt := 1; ; attempt++ {
		grows := c.readGrows.Load()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range calls {
			get()
		}
		runtime.ReadMemStats(&after)
		perCall = (after.TotalAlloc - before.TotalAlloc) / calls
		grew := c.readGrows.Load() - grows
		t.Logf("a streamed 1 MiB GET allocates %d bytes; the read buffer grew %d times meanwhile", perCall, grew)
		if grew == 0 || attempt == 3 {
			break
		}
	}
	assert.Less(t, perCall, uint64(8<<10))
}
