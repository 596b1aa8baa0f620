package conn

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// stateCommands are commands whose effect outlives their reply, as a
// caller might send them to a shared connection, in any spelling.
var stateCommands = [][]string{
	{"MULTI"}, {"exec"}, {"Discard"},
	{"WATCH", "k"}, {"unwatch"},
	{"SELECT", "5"}, {"select", "0"},
	{"CLIENT", "REPLY", "SKIP"}, {"client", "reply", "off"},
	{"CLIENT", "TRACKING", "ON"}, {"CLIENT", "SETNAME", "x"},
	{"CLIENT", "CACHING", "YES"}, {"CLIENT", "NO-EVICT", "ON"},
	{"MONITOR"}, {"RESET"}, {"HELLO", "2"}, {"hello", "3"}, {"QUIT"},
	{"READONLY"}, {"readwrite"}, {"AUTH", "secret"}, {"ASKING"},
	{"SYNC"}, {"PSYNC", "?", "-1"}, {"REPLCONF", "listening-port", "1"},
}

func TestCommandState(t *testing.T) {
	for _, args := range stateCommands {
		assert.NotEqual(t, stateNone, commandState(args), "%q", args)
	}
	for _, args := range [][]string{
		{"GET", "k"}, {"SET", "k", "v"}, {"PING"}, {"ECHO", "x"},
		{"CLIENT", "ID"}, {"CLIENT", "GETNAME"}, {"CLIENT", "LIST"}, {"CLIENT"},
		{"SELECTX"}, {"EXECUTE"}, {"SWAPDB", "0", "1"}, {"CLIENT", "TRACKINGINFO"},
	} {
		assert.Equal(t, stateNone, commandState(args), "%q", args)
	}
}

func TestCommandStateDoesNotAllocate(t *testing.T) {
	get, set := []string{"GET", "k"}, []string{"SET", "k", "v"}
	reply := []string{"client", "reply", "skip"}
	allocs := testing.AllocsPerRun(100, func() {
		_ = commandState(get)
		_ = commandState(set)
		_ = commandState(reply)
	})
	assert.Zero(t, allocs)
}

func TestCheckSharedBatch(t *testing.T) {
	ok := [][][]string{
		{{"MULTI"}, {"INCR", "a"}, {"EXEC"}},
		{{"GET", "x"}, {"multi"}, {"SET", "a", "1"}, {"discard"}, {"GET", "y"}},
		{{"WATCH", "a"}, {"MULTI"}, {"SET", "a", "1"}, {"EXEC"}},
		{{"WATCH", "a"}, {"UNWATCH"}},
		{{"MULTI"}, {"SET", "a", "1"}, {"EXEC"}, {"MULTI"}, {"SET", "b", "1"}, {"EXEC"}},
		{{"ASKING"}, {"GET", "a"}},
		{{"CLIENT", "CACHING", "YES"}, {"GET", "a"}},
		{{"ASKING"}, {"MULTI"}, {"GET", "a"}, {"EXEC"}},
	}
	for _, cmds := range ok {
		assert.NoError(t, checkSharedBatch(cmds), "%q", cmds)
	}
	refused := [][][]string{
		{{"MULTI"}, {"INCR", "a"}},
		{{"INCR", "a"}, {"EXEC"}},
		{{"DISCARD"}},
		{{"WATCH", "a"}},
		{{"WATCH", "a"}, {"GET", "a"}},
		{{"UNWATCH"}},
		{{"MULTI"}, {"SELECT", "1"}, {"EXEC"}},
		{{"GET", "a"}, {"ASKING"}},
		{{"MULTI"}, {"ASKING"}, {"EXEC"}},
		{{"CLIENT", "CACHING", "YES"}},
		{{"CLIENT", "REPLY", "SKIP"}, {"GET", "a"}},
		{{"MULTI"}, {"EXEC"}, {"MULTI"}},
	}
	for _, cmds := range refused {
		err := checkSharedBatch(cmds)
		assert.ErrorIs(t, err, ErrSharedState, "%q", cmds)
	}
}

// TestClientRefusesStateCommands sends every command that would change the
// shared connection's state, by Do and alone in a DoMulti, while 4 callers
// check that each of their replies is their own. Each is refused unsent
// with an error that points to Dedicated or DoMulti.
func TestClientRefusesStateCommands(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	stop := make(chan struct{})
	var wrong, calls atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				want := strconv.Itoa(g) + ":" + strconv.Itoa(i)
				v, err := c.Do(ctx, "ECHO", want)
				calls.Add(1)
				if err != nil || text(t, v) != want {
					wrong.Add(1)
				}
			}
		})
	}
	for _, args := range stateCommands {
		_, err := c.Do(ctx, args...)
		require.ErrorIs(t, err, ErrSharedState, "Do %q", args)
		assert.Regexp(t, `Dedicated`, err.Error())
		_, err = c.DoMulti(ctx, args)
		require.ErrorIs(t, err, ErrSharedState, "DoMulti %q", args)
	}
	// Let the callers run a while past the last refusal.
	for start := calls.Load(); calls.Load() < start+200; {
		v, err := c.Do(ctx, "ECHO", "main")
		require.NoError(t, err)
		require.Equal(t, "main", text(t, v))
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, wrong.Load(), "wrong replies out of %d", calls.Load())

	// A transaction written whole still works, and leaves nothing behind.
	key := clientKey(t, "n")
	_, err := c.Do(ctx, "DEL", key)
	require.NoError(t, err)
	vs, err := c.DoMulti(ctx, []string{"WATCH", key}, []string{"MULTI"}, []string{"INCR", key}, []string{"EXEC"})
	require.NoError(t, err)
	require.Len(t, vs, 4)
	require.Len(t, vs[3].Elems(), 1)
	v, err := c.Do(ctx, "INCR", key)
	require.NoError(t, err)
	n, _ := v.Int()
	assert.Equal(t, int64(2), n)
}

// TestDedicatedRunsStateCommands: the Conn Dedicated lends is the caller's
// own, so it runs what the shared one refuses; so does a Conn dialled by
// hand.
func TestDedicatedRunsStateCommands(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	err := c.Dedicated(ctx, func(cn *Conn) error {
		_, err := cn.Do(ctx, "SELECT", "3")
		if err != nil {
			return err
		}
		_, err = cn.Do(ctx, "CLIENT", "SETNAME", "dedicated")
		return err
	})
	require.NoError(t, err)

	cn := dialTest(t, nil)
	v, err := cn.Do(ctx, "SELECT", "2")
	require.NoError(t, err)
	assert.Equal(t, "OK", text(t, v))
}

// TestDedicatedClosesConnWithState: a Conn on which fn left state other
// than a transaction is closed, not pooled, so the next Dedicated call and
// the next blocking command start clean.
func TestDedicatedClosesConnWithState(t *testing.T) {
	c, ctx := newTestClient(t, redistest.Server().Addr)
	key := clientKey(t, "list")
	_, err := c.DoMulti(ctx, []string{"DEL", key}, []string{"RPUSH", key, "in-db-0"})
	require.NoError(t, err)

	dirty := map[string][]string{
		"select":   {"SELECT", "5"},
		"setname":  {"CLIENT", "SETNAME", "dirty"},
		"tracking": {"CLIENT", "TRACKING", "ON"},
	}
	for name, args := range dirty {
		t.Run(name, func(t *testing.T) {
			var id string
			require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
				id = clientID(t, cn)
				_, err := cn.Do(ctx, args...)
				return err
			}))
			require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
				assert.NotEqual(t, id, clientID(t, cn), "the Conn of %q was pooled", args)
				v, err := cn.Do(ctx, "CLIENT", "GETNAME")
				assert.True(t, v.IsNull(), "name %v", v)
				return err
			}))
		})
	}
	t.Run("subscribe", func(t *testing.T) {
		var id string
		require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
			id = clientID(t, cn)
			return cn.Send(ctx, "SUBSCRIBE", clientKey(t, "ch"))
		}))
		require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
			assert.NotEqual(t, id, clientID(t, cn))
			return nil
		}))
	})
	t.Run("blocking command after SELECT", func(t *testing.T) {
		require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
			_, err := cn.Do(ctx, "SELECT", "5")
			return err
		}))
		v, err := c.Do(ctx, "BLPOP", key, "1")
		require.NoError(t, err)
		require.Len(t, v.Elems(), 2, "BLPOP ran in another db: %v", v)
		assert.Equal(t, "in-db-0", text(t, v.Elems()[1]))
	})

	// A transaction alone leaves the Conn fit for reuse.
	var id string
	require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
		id = clientID(t, cn)
		_, err := cn.DoMulti(ctx, []string{"WATCH", key}, []string{"MULTI"}, []string{"PING"}, []string{"EXEC"})
		return err
	}))
	require.NoError(t, c.Dedicated(ctx, func(cn *Conn) error {
		assert.Equal(t, id, clientID(t, cn))
		return nil
	}))
}
