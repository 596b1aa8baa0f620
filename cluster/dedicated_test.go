package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// transfer runs WATCH from; GET from; (meddle); MULTI; DECRBY from; INCRBY
// to; EXEC on cn and returns EXEC's reply.
func transfer(ctx context.Context, cn *conn.Conn, from, to string, meddle func()) (resp.Value, error) {
	if _, err := cn.Do(ctx, "WATCH", from); err != nil {
		return resp.Value{}, err
	}
	if _, err := cn.Do(ctx, "GET", from); err != nil {
		return resp.Value{}, err
	}
	if meddle != nil {
		meddle()
	}
	replies, err := cn.DoMulti(ctx, []string{"MULTI"}, []string{"DECRBY", from, "10"}, []string{"INCRBY", to, "10"}, []string{"EXEC"})
	if err != nil {
		return resp.Value{}, err
	}
	return replies[3], replies[3].Err()
}

func TestDedicatedWatchMultiExec(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	tag := "{" + uniqueKey(t, "") + "}"
	from, to := tag+"from", tag+"to"
	_, err := c.Do(ctx, "SET", from, "100")
	require.NoError(t, err)

	// A concurrent writer changes the watched key: EXEC returns null.
	var exec resp.Value
	err = c.Dedicated(ctx, from, func(cn *conn.Conn) error {
		var err error
		exec, err = transfer(ctx, cn, from, to, func() {
			_, err := c.Do(ctx, "SET", from, "50")
			require.NoError(t, err)
		})
		return err
	})
	require.NoError(t, err)
	assert.True(t, exec.IsNull(), "EXEC after the watched key changed: %v", exec)
	assert.Equal(t, int64(50), getInt(t, ctx, c, from), "the transaction didn't run")

	// Left alone, it runs.
	err = c.Dedicated(ctx, from, func(cn *conn.Conn) error {
		var err error
		exec, err = transfer(ctx, cn, from, to, nil)
		return err
	})
	require.NoError(t, err)
	require.Len(t, exec.Elems(), 2)
	assert.Equal(t, int64(40), getInt(t, ctx, c, from))
	assert.Equal(t, int64(10), getInt(t, ctx, c, to))

	// It ran on the master of the key's slot.
	owner, err := redistest.Cluster().MasterOf(ctx, int(slots.Slot(from)))
	require.NoError(t, err)
	v, err := owner.Do(ctx, "GET", to)
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "10", s)
}

// TestDedicatedMovedIsAnError: the key's slot migrates away while fn runs;
// fn's next command gets MOVED, and Dedicated returns ErrSlotMoved instead
// of rerouting. A retry goes to the new owner.
func TestDedicatedMovedIsAnError(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	tag := "{" + uniqueKey(t, "") + "}"
	key := tag + "n"
	slot := int(slots.Slot(key))
	_, err := c.Do(ctx, "SET", key, "1")
	require.NoError(t, err)
	cl := redistest.Cluster()
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := otherMaster(t, from)
	moveSlotBack(t, slot, from)

	calls := 0
	err = c.Dedicated(ctx, key, func(cn *conn.Conn) error {
		calls++
		if _, err := cn.Do(ctx, "WATCH", key); err != nil {
			return err
		}
		require.NoError(t, cl.MigrateSlot(ctx, slot, to))
		_, err := cn.Do(ctx, "INCR", key)
		return err
	})
	require.Error(t, err)
	t.Logf("error: %v", err)
	assert.ErrorIs(t, err, ErrSlotMoved)
	var re *resp.Error
	require.True(t, errors.As(err, &re))
	assert.Equal(t, "MOVED", re.Code)
	assert.Equal(t, 1, calls, "fn ran once: nothing was rerouted")
	assert.Equal(t, int64(1), getInt(t, ctx, c, key), "the INCR did not run anywhere")

	err = c.Dedicated(ctx, key, func(cn *conn.Conn) error {
		_, err := cn.Do(ctx, "INCR", key)
		return err
	})
	require.NoError(t, err, "the retry goes to the new owner")
	assert.Equal(t, int64(2), getInt(t, ctx, c, key))
}
