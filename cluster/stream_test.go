package cluster

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// TestDoStream: values on every master stream whole, a missing key is
// resp.ErrNull, and DoBuffer appends.
func TestDoStream(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	for i := range 6 {
		k := uniqueKey(t, "k"+strings.Repeat("x", i))
		value := strings.Repeat(string(rune('a'+i)), 300<<10+i)
		_, err := c.Do(ctx, "SET", k, value)
		require.NoError(t, err)
		var buf bytes.Buffer
		n, err := c.DoStream(ctx, &buf, "GET", k)
		require.NoError(t, err)
		assert.Equal(t, int64(len(value)), n)
		assert.True(t, buf.String() == value, "key %s", k)
		got, err := c.DoBuffer(ctx, []byte("p:"), "GET", k)
		require.NoError(t, err)
		assert.True(t, string(got) == "p:"+value)
		exact := make([]byte, 0, len(value))
		got, err = c.DoBuffer(context.Background(), exact, "GET", k)
		require.NoError(t, err)
		assert.True(t, string(got) == value)
		assert.Same(t, unsafe.SliceData(exact[:1]), unsafe.SliceData(got), "read into the caller's array, not a new one")
	}
	_, err := c.DoStream(ctx, &bytes.Buffer{}, "GET", uniqueKey(t, "missing"))
	assert.ErrorIs(t, err, resp.ErrNull)
}

// TestDoStreamRedirects: a stream follows MOVED (the slot moved away) and
// ASK (the key moved mid-migration) as Do does.
func TestDoStreamRedirects(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	cl := redistest.Cluster()

	t.Run("moved", func(t *testing.T) {
		key := uniqueKey(t, "moved")
		slot := int(slots.Slot(key))
		_, err := c.Do(ctx, "SET", key, "moved value")
		require.NoError(t, err)
		from, err := cl.MasterOf(ctx, slot)
		require.NoError(t, err)
		to := otherMaster(t, from)
		moveSlotBack(t, slot, from)
		require.NoError(t, cl.MigrateSlot(ctx, slot, to))
		var buf bytes.Buffer
		_, err = c.DoStream(ctx, &buf, "GET", key)
		require.NoError(t, err)
		assert.Equal(t, "moved value", buf.String())
		assert.Equal(t, to.Addr, c.table.Load().pick(slot, false).addr)
	})
	t.Run("ask", func(t *testing.T) {
		tag := "{" + uniqueKey(t, "") + "}"
		moving := tag + "moving"
		slot := int(slots.Slot(tag))
		_, err := c.Do(ctx, "SET", moving, "asked value")
		require.NoError(t, err)
		from, err := cl.MasterOf(ctx, slot)
		require.NoError(t, err)
		to := otherMaster(t, from)
		m, err := cl.StartMigration(ctx, slot, to)
		require.NoError(t, err)
		moveSlotBack(t, slot, from)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, m.Finish(ctx))
		})
		require.NoError(t, m.MoveKeys(ctx, moving))
		var buf bytes.Buffer
		n, err := c.DoStream(ctx, &buf, "GET", moving)
		require.NoError(t, err)
		assert.Equal(t, int64(len("asked value")), n)
		assert.Equal(t, "asked value", buf.String())
	})
}

// TestDoStreamRefusesFanOut: a command the cluster would fan out can't be
// streamed.
func TestDoStreamRefusesFanOut(t *testing.T) {
	c := newTestClient(t, nil)
	_, err := c.DoStream(context.Background(), &bytes.Buffer{}, "DBSIZE")
	assert.ErrorContains(t, err, "cluster: DoStream: DBSIZE fans out")
}
