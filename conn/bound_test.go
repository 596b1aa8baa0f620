package conn

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// TestSynctestWriteBufferBound: over net.Pipe, a server that stops reading
// after the first command leaves the writer stuck with the second in hand. With MaxWriteBuffer at
// 1 KiB, the next command is buffered (nothing was held), the one after
// waits for room, and returns its context's error when that ends. Closing
// the Conn wakes a waiter with an ErrClosed that is SafeToRetry.
func TestSynctestWriteBufferBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		value := strings.Repeat("v", 1<<10)
		// A server that reads the first SET and then nothing: RESP2 with
		// no options needs no handshake.
		client, server := net.Pipe()
		defer server.Close()
		go func() {
			first := resp.AppendCommand(nil, "SET", "first", value)
			_, _ = io.ReadFull(server, make([]byte, len(first)))
		}()
		cn, err := NewConn(t.Context(), client, &Options{Protocol: 2, MaxWriteBuffer: 1 << 10})
		require.NoError(t, err)
		defer cn.Close()
		ctx := t.Context()
		stuck := make(chan error, 1)
		go func() { _, err := cn.Do(ctx, "SET", "first", value); stuck <- err }() // the server reads it, then stops
		synctest.Wait()
		go func() { _, err := cn.Do(ctx, "SET", "second", value); stuck <- err }() // in the writer's hands, blocked
		synctest.Wait()

		waiting, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		start := time.Now()
		_, err = cn.Do(waiting, "SET", "third", value)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start), "it waited for room until its context ended")
		cn.mu.Lock()
		held := cn.inWrite + len(cn.wbuf)
		cn.mu.Unlock()
		assert.Less(t, held, 2<<10, "only what was in flight is held")

		blocked := make(chan error, 1)
		go func() { _, err := cn.Do(ctx, "GET", "k"); blocked <- err }()
		synctest.Wait()
		cn.mu.Lock()
		written, unsent := cn.pending.written(), cn.pending.unsent()
		cn.mu.Unlock()
		assert.Equal(t, 2, written, "the first SET, and the second in the writer's hands")
		assert.Zero(t, unsent, "the GET waits for room, outside the buffer")
		require.NoError(t, cn.Close())
		err = <-blocked
		assert.ErrorIs(t, err, ErrClosed)
		assert.True(t, SafeToRetry(err), "a command that waited for room was never sent: %#v", err)
		<-stuck
		<-stuck
	})
}
