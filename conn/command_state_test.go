package conn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// TestClientDoCmdRefusesSharedState: DoCmd and DoMultiCmd refuse, unsent,
// what Do and DoMulti refuse on the shared Conn, however the arguments are
// typed; a transaction whole within a batch passes.
func TestClientDoCmdRefusesSharedState(t *testing.T) {
	cl, ctx := newTestClient(t, redistest.Server().Addr)
	for _, cmd := range []Command{
		Cmd("SELECT").Int(1),
		Cmd("CLIENT", "REPLY", "OFF"),
		Cmd("WATCH", "k"),
		Cmd("MULTI"),
	} {
		_, err := cl.DoCmd(ctx, cmd)
		assert.ErrorIs(t, err, ErrSharedState, "%q", cmd.Strings())
		_, err = cl.DoMultiCmd(ctx, Cmd("PING"), cmd)
		assert.ErrorIs(t, err, ErrSharedState, "%q in a batch", cmd.Strings())
	}
	key := clientKey(t, "k")
	vs, err := cl.DoMultiCmd(ctx, Cmd("MULTI"), Cmd("SET", key).Int(1), Cmd("INCR", key), Cmd("EXEC"))
	require.NoError(t, err)
	require.Len(t, vs[3].Elems(), 2)
	assert.Equal(t, int64(2), mustInt(t, vs[3].Elems()[1]))
	v, err := cl.DoCmd(ctx, Cmd("GET", key))
	require.NoError(t, err)
	assert.Equal(t, "2", text(t, v), "the shared Conn is still on DB 0")
}

// TestWatchClosesAConnLeftInAnotherDB: a Watch whose fn SELECTs another
// DB through DoCmd leaves a Conn no other caller may get.
func TestWatchClosesAConnLeftInAnotherDB(t *testing.T) {
	cl, ctx := newTestClient(t, redistest.Server().Addr)
	var first *Conn
	err := cl.Watch(ctx, func(tx Doer) error {
		first = tx.(*Conn)
		_, err := tx.DoCmd(ctx, Cmd("SELECT").Int(3))
		return err
	})
	require.NoError(t, err)
	select {
	case <-first.Done():
	case <-ctx.Done():
		t.Fatal("the Conn left in DB 3 went back to the pool")
	}
	err = cl.Watch(ctx, func(tx Doer) error {
		assert.NotSame(t, first, tx)
		return nil
	})
	require.NoError(t, err)
}
