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
	// 40 replies of 16 KiB and more in one go: the first read fills
	// the 16 KiB buffer (a reply alone does not fit in it).
	vals, err := c.DoMulti(ctx, gets...)
	require.NoError(t, err)
	for i, v := range vals {
		s, err := v.Text()
		require.NoError(t, err)
		require.Equal(t, strings.Repeat(strconv.Itoa(i%10), 16<<10+i), s, "reply %d", i)
	}
	// The reader goroutine may already have taken the socket back, idle,
	// and shrunk the buffer: count the growth, not the size now.
	assert.Equal(t, int64(1), c.readGrows.Load(), "a busy Conn's read buffer grows once")

	// Idle for a window of the reader goroutine: it takes the socket
	// back with a small buffer.
	require.Eventually(t, func() bool { return c.readBufferBytes() == readBufferSize },
		10*time.Second, time.Millisecond, "an idle Conn's read buffer shrinks back")
	_, err = c.Do(ctx, "PING")
	require.NoError(t, err)
}
