package conn

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// heldSizes are value sizes on both sides of every boundary the vector
// writer meets: heldMin, and writeChunk, where a value is split in pieces.
var heldSizes = []int{
	heldMin - 1, heldMin, 16 << 10,
	writeChunk - 1, writeChunk, writeChunk + 1, 3*writeChunk + 5,
}

// heldValue is a value of n bytes that says where each byte is, so that a
// piece written twice, or out of place, shows.
func heldValue(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(',')
	}
	return b.String()[:n]
}

// TestHeldArgumentsReachTheServer: on TCP, SETs of values around heldMin
// and writeChunk, alone and in MSETs beside small arguments, from many
// goroutines at once, store exactly the values sent, and a serial SET
// writes exactly its command's bytes. The calls' context never ends, so
// their big arguments are held (see Conn.appendCommand).
func TestHeldArgumentsReachTheServer(t *testing.T) {
	c := dialTest(t, nil)
	require.True(t, c.plain, "a TCP Conn writes vectors")
	ctx := context.Background()

	for _, size := range heldSizes {
		value := heldValue(size)
		args := []string{"SET", "conn:held:serial", value}
		before := c.Stats().BytesWritten
		// A caller whose context never ends writes its command itself
		// (see Conn.unlock): the count is done when Do returns.
		_, err := c.Do(ctx, args...)
		require.NoError(t, err)
		assert.Equal(t, uint64(len(resp.AppendCommand(nil, args...))), c.Stats().BytesWritten-before,
			"a SET of %d bytes writes its command, once", size)
		v, err := c.Do(ctx, "GET", "conn:held:serial")
		require.NoError(t, err)
		require.Equal(t, value, text(t, v), "value of %d bytes", size)
	}

	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i, size := range heldSizes {
				key := "conn:held:" + strconv.Itoa(g) + ":" + strconv.Itoa(i)
				value := heldValue(size + g)
				vals, err := c.DoMulti(ctx,
					[]string{"MSET", key + ":a", value, key + ":b", "small", key + ":c", value[:size/2]},
					[]string{"SET", key, value},
					[]string{"MGET", key, key + ":a", key + ":b", key + ":c"})
				if !assert.NoError(t, err) {
					return
				}
				got, err := vals[2].Strings()
				if assert.NoError(t, err) {
					assert.Equal(t, []string{value, value, "small", value[:size/2]}, got, "size %d", size)
				}
			}
		})
	}
	wg.Wait()
}

// TestLeavingCallerKeepsItsBytes: a caller whose context ends while its
// big SET is being written, to a paused server, returns at once, and may
// then reuse the bytes its argument viewed (as a caller of
// cluster.Client.DoCmd with Command.Bytes may). The server still gets the
// bytes as they were when the caller called: a cancellable call's
// arguments are copied. When they were held like a patient call's,
// 63,012,910 of the 67,108,864 bytes arrived as rewritten after the return.
func TestLeavingCallerKeepsItsBytes(t *testing.T) {
	node, c := pausedNode(t)
	ctx := testContext(t)
	resume := pause(t, node)
	buf := []byte(strings.Repeat("a", 64<<20))
	view := unsafe.String(unsafe.SliceData(buf), len(buf))
	leaving, leave := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := c.Do(leaving, "SET", "conn:held:leave", view); done <- err }()
	require.Eventually(t, func() bool { w, _ := c.inFlight(); return w == 1 },
		10*time.Second, time.Millisecond, "the SET is handed to the writer")
	leave()
	require.ErrorIs(t, <-done, context.Canceled)
	for i := range buf {
		buf[i] = 'b' // the caller's to reuse
	}
	require.NoError(t, resume())
	v, err := c.Do(ctx, "GET", "conn:held:leave")
	require.NoError(t, err)
	got := text(t, v)
	require.Len(t, got, len(buf))
	assert.Zero(t, strings.Count(got, "b"), "bytes written after the caller left reached the server")
}

// TestIdleConnTrimsHeldLists: a batch of 3,000 SETs of 1 KiB values holds
// every value out of the buffer, which grows the lists of held arguments to
// 70 KiB or more; once the Conn idles they go, back within the idle bound.
func TestIdleConnTrimsHeldLists(t *testing.T) {
	c := dialTest(t, nil)
	ctx := context.Background() // patient: the values are held
	value := heldValue(heldMin)
	cmds := make([][]string, 3000)
	for i := range cmds {
		cmds[i] = []string{"SET", "conn:held:trim:" + strconv.Itoa(i), value}
	}
	_, err := c.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.writeBufferBytes() >= len(cmds)*int(unsafe.Sizeof(heldArg{})) },
		10*time.Second, time.Millisecond, "the batch's list of held arguments is kept")
	require.Eventually(t, func() bool { return c.writeBufferBytes() <= 2*maxKeptBuffer },
		10*time.Second, 10*time.Millisecond, "an idle Conn trims its lists")
	_, err = c.DoMulti(ctx, cmds...)
	require.NoError(t, err, "and it still works")
}

// TestHeldArgumentsWithdrawn: with the writer stuck on a paused server,
// callers queue SETs of big values, and every other one, whose context
// ends (so its value was copied), leaves before its command is written.
// The ones that left are not sent; the others, patient, arrive whole, their
// held values where they belong, though the buffer was compacted under
// them (see pendingReplies.dropWithdrawn).
func TestHeldArgumentsWithdrawn(t *testing.T) {
	node, c := pausedNode(t)
	ctx := testContext(t)
	resume := pause(t, node)
	stuck := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "SET", "conn:held:w:stuck", strings.Repeat("x", 64<<20))
		stuck <- err
	}()
	require.Eventually(t, func() bool { w, _ := c.inFlight(); return w == 1 },
		10*time.Second, time.Millisecond, "the big SET is handed to the writer")

	const n = 24
	leaving, leave := context.WithCancel(ctx)
	errs := make([]chan error, n)
	for i := range n {
		errs[i] = make(chan error, 1)
		callCtx := context.Background()
		if i%2 == 1 {
			callCtx = leaving
		}
		key, value := "conn:held:w:"+strconv.Itoa(i), heldValue(heldSizes[i%len(heldSizes)]+i)
		go func() { _, err := c.Do(callCtx, "SET", key, value); errs[i] <- err }()
		// One at a time, so the buffer holds them in this order.
		require.Eventually(t, func() bool { _, u := c.inFlight(); return u == i+1 },
			10*time.Second, time.Millisecond, "SET %d is queued", i)
	}
	leave()
	for i := 1; i < n; i += 2 {
		assert.ErrorIs(t, <-errs[i], context.Canceled)
	}
	require.NoError(t, resume())
	require.NoError(t, <-stuck)
	for i := 0; i < n; i += 2 {
		require.NoError(t, <-errs[i])
	}
	for i := range n {
		key := "conn:held:w:" + strconv.Itoa(i)
		v, err := c.Do(ctx, "GET", key)
		require.NoError(t, err)
		if i%2 == 1 {
			assert.True(t, v.IsNull(), "%s left before it was written: not sent", key)
			continue
		}
		assert.Equal(t, heldValue(heldSizes[i%len(heldSizes)]+i), text(t, v), key)
	}
	v, err := c.Do(ctx, "DBSIZE")
	require.NoError(t, err)
	size, _ := v.Int()
	assert.Equal(t, int64(1+n/2), size, "the stuck SET and the kept ones")
}

// TestHeldArgumentsBoundTheBuffer: the bytes of held arguments count
// towards MaxWriteBuffer as copied ones did, in Stats too: with the writer
// stuck on a paused server, a SET that would take the buffer past the bound
// waits for room until its context ends.
func TestHeldArgumentsBoundTheBuffer(t *testing.T) {
	node := redistest.NewNode(t, redistest.NodeOptions{})
	c := dialNode(t, node, &Options{MaxWriteBuffer: 1 << 20, IdlePing: -1})
	ctx := testContext(t)
	resume := pause(t, node)
	stuck := make(chan error, 2)
	go func() { // patient: its value is held
		_, err := c.Do(context.Background(), "SET", "conn:held:b:1", heldValue(8<<20))
		stuck <- err
	}()
	require.Eventually(t, func() bool { w, _ := c.inFlight(); return w == 1 },
		10*time.Second, time.Millisecond, "the first SET is handed to the writer")
	assert.GreaterOrEqual(t, c.Stats().WriteBufferBytes, 8<<20, "the write in progress counts its held value")

	waiting, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(waiting, "SET", "conn:held:b:2", heldValue(16<<10))
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no room: the held bytes fill the buffer")
	_, unwritten := c.inFlight()
	assert.Zero(t, unwritten, "it waited outside the buffer")

	require.NoError(t, resume())
	require.NoError(t, <-stuck)
	v, err := c.Do(ctx, "STRLEN", "conn:held:b:1")
	require.NoError(t, err)
	got, _ := v.Int()
	assert.Equal(t, int64(8<<20), got)
}

// TestHeldWriteCutMidway: a server that reads part of a big vectored write
// and closes the connection fails the writing caller and every queued one
// with ErrClosed and the cause, and the Conn closes: nobody hangs.
func TestHeldWriteCutMidway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		// RESP2 with no options needs no handshake: read a part of
		// the first SET, then go.
		_, _ = io.ReadFull(nc, make([]byte, writeChunk+heldMin))
		nc.Close()
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	c, err := NewConn(testContext(t), nc, &Options{Protocol: 2, IdlePing: -1})
	require.NoError(t, err)
	defer c.Close()
	require.True(t, c.plain)

	ctx := context.Background() // patient: the values are held
	errs := make(chan error, 8)
	for i := range cap(errs) {
		go func() {
			_, err := c.Do(ctx, "SET", "k"+strconv.Itoa(i), heldValue(4<<20))
			errs <- err
		}()
	}
	for range cap(errs) {
		assert.ErrorIs(t, <-errs, ErrClosed)
	}
	<-c.Done()
	<-served
}
