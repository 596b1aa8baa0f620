package sentinel

import (
	"bytes"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUniversalAcrossFailover: application code written against
// conn.Universal (commands, batches, a WATCH transaction, cached reads)
// works on a sentinel.Client before and after a SENTINEL FAILOVER, and so
// do its streamed and buffered reads; no value cached from the old master
// is served after the switch.
func TestUniversalAcrossFailover(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	resetAfter(t)
	c := newTestClient(t, nil)
	var u conn.Universal = c

	app := func(want string) {
		t.Helper()
		_, err := u.DoCmd(ctx, conn.Cmd("SET", "universal", want))
		require.NoError(t, err)
		vs, err := u.DoMultiCmd(ctx, conn.Cmd("GET", "universal"), conn.Cmd("INCR", "universal:n"))
		require.NoError(t, err)
		got, _ := vs[0].Text()
		assert.Equal(t, want, got)
		err = u.Watch(ctx, func(tx conn.Doer) error {
			vs, err := tx.DoMultiCmd(ctx, conn.Cmd("MULTI"), conn.Cmd("SET", "universal:tx", want), conn.Cmd("EXEC"))
			if err == nil {
				assert.False(t, vs[2].IsNull(), "EXEC aborted")
			}
			return err
		}, "universal:tx")
		require.NoError(t, err)
		var streamed bytes.Buffer
		n, err := c.DoStream(ctx, &streamed, "GET", "universal")
		require.NoError(t, err)
		assert.Equal(t, int64(len(want)), n)
		assert.Equal(t, want, streamed.String())
		buf, err := c.DoBuffer(ctx, []byte("got:"), "GET", "universal")
		require.NoError(t, err)
		assert.Equal(t, "got:"+want, string(buf))
		for range 2 { // a miss, then a hit
			v, err := c.DoCache(ctx, time.Minute, "GET", "universal")
			require.NoError(t, err)
			got, _ := v.Text()
			assert.Equal(t, want, got)
		}
	}
	app("before")
	require.Positive(t, c.CacheStats().Entries, "DoCache cached nothing")
	old := c.MasterAddr()
	moved := clientSwitches(c)
	_, err := s.Failover(ctx)
	require.NoError(t, err)
	select {
	case <-moved:
	case <-ctx.Done():
		t.Fatal("the Client did not follow the switch")
	}
	require.NotEqual(t, old, c.MasterAddr())
	app("after")
}
