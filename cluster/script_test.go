package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// recorder is a conn.Doer that notes the name of every command it passes
// on.
type recorder struct {
	d     conn.Doer
	mu    sync.Mutex
	names []string
}

func (r *recorder) DoCmd(ctx context.Context, cmd conn.Command) (resp.Value, error) {
	r.note(cmd)
	return r.d.DoCmd(ctx, cmd)
}

func (r *recorder) DoMultiCmd(ctx context.Context, cmds ...conn.Command) ([]resp.Value, error) {
	r.note(cmds...)
	return r.d.DoMultiCmd(ctx, cmds...)
}

func (r *recorder) note(cmds ...conn.Command) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cmds {
		r.names = append(r.names, c.Name())
	}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := r.names
	r.names = nil
	return names
}

const incrScript = "return redis.call('INCRBY', KEYS[1], ARGV[1])"

// flushScripts empties the script cache of every running node.
func flushScripts(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, n := range redistest.Cluster().Nodes() {
		if n.Running() {
			_, err := n.Do(ctx, "SCRIPT", "FLUSH")
			require.NoError(t, err)
		}
	}
}

// shardKeys returns one key per shard of the test cluster.
func shardKeys(t *testing.T) []string {
	var keys []string
	for shard := range 3 {
		keys = append(keys, keyForSlot(uniqueKey(t, "k"), shard*(slots.NumSlots/3)+7))
	}
	return keys
}

func TestScriptOnEveryShard(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	rec := &recorder{d: c}
	s := conn.NewScript(incrScript)
	flushScripts(t, ctx)
	for _, key := range shardKeys(t) {
		v, err := s.RunCmd(ctx, rec, s.Cmd(key).Int(5))
		require.NoError(t, err)
		n, err := v.Int()
		require.NoError(t, err)
		assert.Equal(t, int64(5), n)
		assert.Equal(t, []string{"EVALSHA", "EVAL"}, rec.take(), "each master loads it once")
		_, err = s.Run(ctx, rec, []string{key}, "1")
		require.NoError(t, err)
		assert.Equal(t, []string{"EVALSHA"}, rec.take())
	}
	flushScripts(t, ctx) // between calls: every node forgets it
	for _, key := range shardKeys(t) {
		_, err := s.Run(ctx, rec, []string{key}, "1")
		require.NoError(t, err)
		assert.Equal(t, []string{"EVALSHA", "EVAL"}, rec.take())
	}

	_, err := s.Run(ctx, c, []string{keyForSlot("a", 1), keyForSlot("b", 2)}, "1")
	assert.ErrorIs(t, err, ErrCrossSlot, "a script's keys must share a slot")
}

func TestDoMultiScriptsAcrossShards(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	rec := &recorder{d: c}
	s := conn.NewScript(incrScript)
	flushScripts(t, ctx)
	keys := shardKeys(t)
	var cmds []conn.Command
	for i, key := range keys {
		cmds = append(cmds, s.Cmd(key).Int(int64(i+1)), conn.Cmd("INCR", key))
	}
	vs, err := conn.DoMultiScripts(ctx, rec, cmds...)
	require.NoError(t, err)
	require.Len(t, vs, len(cmds))
	for i := range keys {
		n, err := vs[2*i].Int()
		require.NoError(t, err, "script on shard %d", i)
		assert.Equal(t, int64(i+2), n, "INCR ran first, then the script as EVAL")
	}
	assert.Equal(t, []string{"EVALSHA", "INCR", "EVALSHA", "INCR", "EVALSHA", "INCR", "EVAL", "EVAL", "EVAL"}, rec.take())
}

// TestScriptAfterFailover: a promoted replica never got the scripts its
// master ran (Redis replicates their effects, not the scripts), so EVALSHA
// there is NOSCRIPT, and Run loads it again.
func TestScriptAfterFailover(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 2*time.Minute)
	cl := redistest.Cluster()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		assert.NoError(t, cl.Reset(ctx))
	})
	rec := &recorder{d: c}
	s := conn.NewScript(incrScript)
	key := uniqueKey(t, "k")
	slot := int(slots.Slot(key))
	_, err := s.Run(ctx, rec, []string{key}, "1")
	require.NoError(t, err)
	rec.take()

	master, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	replica, err := cl.ReplicaOf(ctx, master)
	require.NoError(t, err)
	exists, err := replica.Do(ctx, "SCRIPT", "EXISTS", s.SHA())
	require.NoError(t, err)
	cached, err := exists.Elems()[0].Int()
	require.NoError(t, err)
	require.Zero(t, cached, "the replica has no copy of the script")

	require.NoError(t, cl.Failover(ctx, master))
	v, err := s.Run(ctx, rec, []string{key}, "1")
	require.NoError(t, err)
	n, err := v.Int()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "the write before the failover was replicated")
	names := rec.take()
	assert.Equal(t, []string{"EVALSHA", "EVAL"}, names)
	exists, err = replica.Do(ctx, "SCRIPT", "EXISTS", s.SHA())
	require.NoError(t, err)
	cached, err = exists.Elems()[0].Int()
	require.NoError(t, err)
	assert.Equal(t, int64(1), cached, "the promoted replica ran EVAL, which cached the script")
}

// TestFunctionCallsRouteByKeys: FCALL and FCALL_RO find their keys through
// the command table (numkeys, then the keys), like EVAL.
func TestFunctionCallsRouteByKeys(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	lib := "#!lua name=respwiretest\n" +
		"redis.register_function('rw_set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n" +
		"redis.register_function{function_name='rw_get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n"
	for _, m := range redistest.Cluster().Masters() {
		_, err := m.Do(ctx, "FUNCTION", "LOAD", "REPLACE", lib)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, m := range redistest.Cluster().Masters() {
			_, _ = m.Do(ctx, "FUNCTION", "DELETE", "respwiretest")
		}
	})

	c := newTestClient(t, nil)
	replicas := newTestClient(t, &Options{ReadReplicas: true})
	for _, name := range []string{"FCALL", "FCALL_RO"} {
		info, ok := c.commands.lookup(name)
		require.True(t, ok, name)
		for _, key := range shardKeys(t) {
			slot, cross := info.keySlot([]string{name, "rw_get", "1", key})
			assert.False(t, cross)
			assert.Equal(t, int(slots.Slot(key)), slot, "%s routes by its key", name)
			slot = slotOfCmd(info, conn.Cmd(name, "rw_get").Int(1).Arg(key))
			assert.Equal(t, int(slots.Slot(key)), slot, "%s with numkeys as a number", name)
		}
		_, cross := info.keySlot([]string{name, "rw_get", "2", keyForSlot("a", 1), keyForSlot("b", 2)})
		assert.True(t, cross, "%s checks every key", name)
	}
	ro, _ := c.commands.lookup("FCALL_RO")
	assert.True(t, ro.readonly(), "FCALL_RO may go to a replica")

	for _, key := range shardKeys(t) {
		// No redirect is followed: the call goes straight to the owner
		// (a MOVED would show as a redirect in the table patch below).
		before := c.table.Load()
		_, err := c.DoCmd(ctx, conn.Cmd("FCALL", "rw_set").Int(1).Arg(key).Arg("v:"+key))
		require.NoError(t, err)
		assert.Same(t, before, c.table.Load(), "FCALL went to the owner without a MOVED")
		owner, err := redistest.Cluster().MasterOf(ctx, int(slots.Slot(key)))
		require.NoError(t, err)
		v, err := owner.Do(ctx, "GET", key)
		require.NoError(t, err)
		assert.Equal(t, "v:"+key, mustText(t, v))

		require.Eventually(t, func() bool {
			v, err := replicas.DoCmd(ctx, conn.Cmd("FCALL_RO", "rw_get").Int(1).Arg(key))
			s, _ := v.Text()
			return err == nil && s == "v:"+key
		}, 10*time.Second, 10*time.Millisecond, "FCALL_RO on a replica sees the write once replicated")
	}
}
