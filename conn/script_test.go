package conn

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// recorder is a Doer that notes the name of every command it passes on.
type recorder struct {
	d     Doer
	mu    sync.Mutex
	names []string
}

func (r *recorder) DoCmd(ctx context.Context, cmd Command) (resp.Value, error) {
	r.note(cmd)
	return r.d.DoCmd(ctx, cmd)
}

func (r *recorder) DoMultiCmd(ctx context.Context, cmds ...Command) ([]resp.Value, error) {
	r.note(cmds...)
	return r.d.DoMultiCmd(ctx, cmds...)
}

func (r *recorder) note(cmds ...Command) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cmds {
		r.names = append(r.names, c.Name())
	}
}

// take returns the names noted since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := r.names
	r.names = nil
	return names
}

const incrScript = "return redis.call('INCRBY', KEYS[1], ARGV[1])"

func TestScriptRun(t *testing.T) {
	cl, ctx := newTestClient(t, redistest.Server().Addr)
	rec := &recorder{d: cl}
	s := NewScript(incrScript)
	key := clientKey(t, "n")

	_, err := cl.Do(ctx, "SCRIPT", "FLUSH")
	require.NoError(t, err)
	v, err := s.Run(ctx, rec, []string{key}, "2")
	require.NoError(t, err)
	assert.Equal(t, int64(2), mustInt(t, v))
	assert.Equal(t, []string{"EVALSHA", "EVAL"}, rec.take(), "NOSCRIPT after SCRIPT FLUSH: EVAL")

	v, err = s.RunCmd(ctx, rec, s.Cmd(key).Int(40))
	require.NoError(t, err)
	assert.Equal(t, int64(42), mustInt(t, v))
	assert.Equal(t, []string{"EVALSHA"}, rec.take(), "EVAL cached the script")
	exists, err := cl.Do(ctx, "SCRIPT", "EXISTS", s.SHA())
	require.NoError(t, err)
	assert.Equal(t, int64(1), mustInt(t, exists.Elems()[0]))

	_, err = cl.Do(ctx, "SCRIPT", "FLUSH")
	require.NoError(t, err)
	v, err = s.Run(ctx, rec, []string{key}, "-42")
	require.NoError(t, err)
	assert.Equal(t, int64(0), mustInt(t, v))
	assert.Equal(t, []string{"EVALSHA", "EVAL"}, rec.take(), "flushed again between calls")
}

func TestScriptErrors(t *testing.T) {
	cl, ctx := newTestClient(t, redistest.Server().Addr)
	failing := NewScript("return redis.error_reply('MYERR broken on purpose')")
	_, err := failing.Run(ctx, cl, nil)
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "MYERR", re.Code)

	other := NewScript("return 1")
	_, err = failing.RunCmd(ctx, cl, other.Cmd())
	assert.ErrorContains(t, err, "conn: Script.RunCmd: the command was not made by this Script's Cmd")
	_, err = failing.RunCmd(ctx, cl, Cmd("EVALSHA", failing.SHA(), "0"))
	assert.Error(t, err, "a command not made by Cmd")

	// Binary arguments reach the script unchanged.
	echo := NewScript("return ARGV[1]")
	payload := []byte{0, 0xff, '\r', '\n'}
	v, err := echo.RunCmd(ctx, cl, echo.Cmd().Bytes(payload))
	require.NoError(t, err)
	s, err := v.Text()
	require.NoError(t, err)
	assert.Equal(t, string(payload), s)
}

func TestDoMultiScripts(t *testing.T) {
	cl, ctx := newTestClient(t, redistest.Server().Addr)
	rec := &recorder{d: cl}
	s := NewScript(incrScript)
	key := clientKey(t, "n")
	_, err := cl.Do(ctx, "SCRIPT", "FLUSH")
	require.NoError(t, err)

	vs, err := DoMultiScripts(ctx, rec, s.Cmd(key).Int(1), Cmd("GET", key), s.Cmd(key).Int(10))
	require.NoError(t, err)
	require.Len(t, vs, 3)
	assert.Equal(t, int64(1), mustInt(t, vs[0]), "sent again as EVAL")
	assert.True(t, vs[1].IsNull(), "the GET ran before either script: the first EVALSHA failed")
	assert.Equal(t, int64(11), mustInt(t, vs[2]))
	assert.Equal(t, []string{"EVALSHA", "GET", "EVALSHA", "EVAL", "EVAL"}, rec.take())

	vs, err = DoMultiScripts(ctx, rec, s.Cmd(key).Int(1), Cmd("GET", key))
	require.NoError(t, err)
	assert.Equal(t, int64(12), mustInt(t, vs[0]))
	assert.Equal(t, []string{"EVALSHA", "GET"}, rec.take(), "cached now: one batch")

	// A transaction sends EVAL from the start: it can't be finished later.
	_, err = cl.Do(ctx, "SCRIPT", "FLUSH")
	require.NoError(t, err)
	vs, err = DoMultiScripts(ctx, rec, Cmd("MULTI"), s.Cmd(key).Int(8), Cmd("EXEC"))
	require.NoError(t, err)
	require.Len(t, vs, 3)
	require.Len(t, vs[2].Elems(), 1)
	assert.Equal(t, int64(20), mustInt(t, vs[2].Elems()[0]))
	assert.Equal(t, []string{"MULTI", "EVAL", "EXEC"}, rec.take())
}

func TestClientWatch(t *testing.T) {
	cl, ctx := newTestClient(t, redistest.Server().Addr)
	u := hideType[Universal](cl)
	key := clientKey(t, "n")
	_, err := cl.Do(ctx, "SET", key, "1")
	require.NoError(t, err)
	err = u.Watch(ctx, func(tx Doer) error {
		_, err := cl.Do(ctx, "SET", key, "disturbed")
		require.NoError(t, err)
		vs, err := tx.DoMultiCmd(ctx, Cmd("MULTI"), Cmd("SET", key, "mine"), Cmd("EXEC"))
		require.NoError(t, err)
		assert.True(t, vs[2].IsNull(), "EXEC aborted: the watched key changed")
		return nil
	}, key)
	require.NoError(t, err)
	err = u.Watch(ctx, func(tx Doer) error {
		vs, err := tx.DoMultiCmd(ctx, Cmd("MULTI"), Cmd("SET", key, "mine"), Cmd("EXEC"))
		require.NoError(t, err)
		assert.False(t, vs[2].IsNull(), "EXEC committed")
		return nil
	}, key)
	require.NoError(t, err)
	v, err := cl.Do(ctx, "GET", key)
	require.NoError(t, err)
	assert.Equal(t, "mine", text(t, v))

	// The Conn went back to the pool unwatched: a change now doesn't
	// abort the next transaction on it.
	err = u.Watch(ctx, func(tx Doer) error {
		_, err := cl.Do(ctx, "SET", key, "other")
		require.NoError(t, err)
		vs, err := tx.DoMultiCmd(ctx, Cmd("MULTI"), Cmd("GET", key), Cmd("EXEC"))
		require.NoError(t, err)
		assert.False(t, vs[2].IsNull())
		return nil
	})
	require.NoError(t, err)
}

func mustInt(t *testing.T, v resp.Value) int64 {
	t.Helper()
	n, err := v.Int()
	require.NoError(t, err, "reply %v", v)
	return n
}
