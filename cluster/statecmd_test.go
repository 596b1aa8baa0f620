package cluster

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
)

// TestRefusesStateCommands: every node's shared connection refuses a
// command that would change its state for the other callers, so MULTI and
// WATCH sent by Do fail unsent, and the next calls get their own replies. A
// transaction written whole by one DoMulti still runs.
func TestRefusesStateCommands(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	key := uniqueKey(t, "k")
	for _, args := range [][]string{{"MULTI"}, {"multi"}, {"WATCH", key}, {"EXEC"}, {"SELECT", "1"}} {
		_, err := c.Do(ctx, args...)
		require.ErrorIs(t, err, conn.ErrSharedState, "%q", args)
		assert.Contains(t, err.Error(), "Dedicated")
	}
	for range 50 { // whichever node MULTI would have gone to
		v, err := c.Do(ctx, "SET", uniqueKey(t, "x"), "1")
		require.NoError(t, err)
		s, _ := v.Text()
		require.Equal(t, "OK", s, "a reply shifted by a transaction left open")
	}
	vs, err := c.DoMulti(ctx, []string{"MULTI"}, []string{"INCR", key}, []string{"EXEC"})
	require.NoError(t, err)
	require.Len(t, vs, 3)
	require.Len(t, vs[2].Elems(), 1)
	n, _ := vs[2].Elems()[0].Int()
	assert.Equal(t, int64(1), n)
}
