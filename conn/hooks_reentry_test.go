package conn

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// TestHooksCallAnotherClient: hooks that call another Client (a metrics
// pipeline writing to Redis) from every kind of event, the reader's State
// events and the redial's included, don't deadlock either Client: calls
// go on through a kill and its redial.
func TestHooksCallAnotherClient(t *testing.T) {
	srv := redistest.Server()
	ctx := testContext(t)
	other, err := NewClient(ctx, srv.Addr, nil)
	require.NoError(t, err)
	defer other.Close()
	key := clientKey(t, "events")
	record := func(kind string) {
		callCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := other.Do(callCtx, "HINCRBY", key, kind, "1"); err != nil {
			t.Errorf("the hook's call of another Client: %v", err)
		}
	}
	hooks := &Hooks{
		Command:  func(context.Context, CommandEvent) { record("command") },
		Pipeline: func(context.Context, PipelineEvent) { record("pipeline") },
		Dial:     func(context.Context, DialEvent) { record("dial") },
		State:    func(StateEvent) { record("state") },
		Redial:   func(RedialEvent) { record("redial") },
	}
	c, err := NewClient(ctx, srv.Addr, &Options{Hooks: hooks})
	require.NoError(t, err)
	old := c.current.Load()
	_, err = srv.Do(ctx, "CLIENT", "KILL", "ID", clientID(t, old))
	require.NoError(t, err)
	<-old.Done()
	for i := range 50 {
		_, err := c.Do(ctx, "SET", clientKey(t, "k"), strconv.Itoa(i))
		require.NoError(t, err)
		_, err = c.DoMulti(ctx, []string{"GET", clientKey(t, "k")}, []string{"PING"})
		require.NoError(t, err)
	}
	require.NoError(t, c.Close())
	v, err := srv.Do(ctx, "HGETALL", key)
	require.NoError(t, err)
	got, err := v.StringMap()
	require.NoError(t, err)
	t.Logf("events recorded through the other Client: %v", got)
	for _, kind := range []string{"command", "pipeline", "dial", "state", "redial"} {
		assert.NotEmpty(t, got[kind], "%s events reached the other Client", kind)
	}
}
