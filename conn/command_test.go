package conn

import (
	"bytes"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

func TestCommandEncoding(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want []string // what resp.AppendCommand must write for the same command
	}{
		{"strings", Cmd("SET", "k", "v"), []string{"SET", "k", "v"}},
		{"bytes", Cmd("SET", "k").Bytes([]byte{0, '\r', '\n', 0xff}), []string{"SET", "k", "\x00\r\n\xff"}},
		{"empty bytes", Cmd("SET", "k").Bytes(nil), []string{"SET", "k", ""}},
		{"int", Cmd("EXPIRE", "k").Int(-42), []string{"EXPIRE", "k", "-42"}},
		{"int extremes", Cmd("X").Int(math.MinInt64).Int(math.MaxInt64),
			[]string{"X", "-9223372036854775808", "9223372036854775807"}},
		{"float", Cmd("INCRBYFLOAT", "k").Float(1.5), []string{"INCRBYFLOAT", "k", "1.5"}},
		{"float shortest", Cmd("X").Float(0.1).Float(1e21).Float(math.Copysign(0, -1)), []string{"X", "0.1", "1e+21", "-0"}},
		{"infinities", Cmd("ZADD", "z").Float(math.Inf(1)).Arg("a").Float(math.Inf(-1)).Arg("b"),
			[]string{"ZADD", "z", "inf", "a", "-inf", "b"}},
		{"args", Cmd("DEL").Args("a", "b", "c"), []string{"DEL", "a", "b", "c"}},
		{"name only", Cmd("PING"), []string{"PING"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, string(resp.AppendCommand(nil, tt.want...)), string(tt.cmd.AppendTo(nil)))
			assert.Equal(t, tt.want, tt.cmd.Strings())
			assert.Equal(t, len(tt.want), tt.cmd.Len())
			assert.Equal(t, tt.want[0], tt.cmd.Name())
		})
	}
}

// TestCommandOverflow builds commands longer than the inline arguments, in
// every way, and checks that copies sharing a prefix never overwrite each
// other's arguments.
func TestCommandOverflow(t *testing.T) {
	var want []string
	long := Cmd("RPUSH", "list")
	want = append(want, "RPUSH", "list")
	for i := range 20 {
		switch i % 3 {
		case 0:
			long = long.Arg("s" + strconv.Itoa(i))
			want = append(want, "s"+strconv.Itoa(i))
		case 1:
			long = long.Int(int64(i))
			want = append(want, strconv.Itoa(i))
		default:
			long = long.Bytes([]byte("b" + strconv.Itoa(i)))
			want = append(want, "b"+strconv.Itoa(i))
		}
	}
	require.Equal(t, want, long.Strings())
	assert.Equal(t, string(resp.AppendCommand(nil, want...)), string(long.AppendTo(nil)))

	a, b := long.Arg("a"), long.Arg("b")
	assert.Equal(t, append(append([]string(nil), want...), "a"), a.Strings())
	assert.Equal(t, append(append([]string(nil), want...), "b"), b.Strings())
	assert.Equal(t, want, long.Strings(), "the shared prefix is unchanged")

	args := make([]string, 30)
	for i := range args {
		args[i] = strconv.Itoa(i)
	}
	c := Cmd("MSET", args...).Args(args...)
	assert.Equal(t, append(append([]string{"MSET"}, args...), args...), c.Strings())
}

func TestCommandAccessors(t *testing.T) {
	c := Cmd("SET", "k").Bytes([]byte("v")).Arg("EX").Int(60)
	for i, want := range []struct {
		text string
		ok   bool
		wire string
	}{{"SET", true, "SET"}, {"k", true, "k"}, {"v", true, "v"}, {"EX", true, "EX"}, {"", false, "60"}} {
		s, ok := c.Text(i)
		assert.Equal(t, want.ok, ok, "argument %d", i)
		if ok {
			assert.Equal(t, want.text, s, "argument %d", i)
		}
		assert.Equal(t, want.wire, string(c.AppendArg(nil, i)), "argument %d", i)
	}
	_, ok := c.Text(5)
	assert.False(t, ok)
	_, ok = c.Text(-1)
	assert.False(t, ok)
	assert.Empty(t, c.AppendArg(nil, 5))

	var empty Command
	assert.Equal(t, 0, empty.Len())
	assert.Equal(t, "", empty.Name())
	assert.Equal(t, "*0\r\n", string(empty.AppendTo(nil)))
}

// TestCommandStringsCopiesBytes: Strings is the safe form, so a []byte
// argument changed afterwards doesn't change what it returned.
func TestCommandStringsCopiesBytes(t *testing.T) {
	b := []byte("before")
	c := Cmd("SET", "k").Bytes(b)
	got := c.Strings()
	copy(b, "after!")
	assert.Equal(t, "before", got[2])
	assert.True(t, bytes.Contains(c.AppendTo(nil), []byte("after!")), "the Command itself shares b")
}

func TestDoCmd(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	payload := []byte{0, 1, 2, '\r', '\n', 0xfe, 0xff}
	v, err := c.DoCmd(ctx, Cmd("SET", "conn:cmd:bin").Bytes(payload).Arg("EX").Int(60))
	require.NoError(t, err)
	assert.Equal(t, "OK", text(t, v))
	v, err = c.DoCmd(ctx, Cmd("GET", "conn:cmd:bin"))
	require.NoError(t, err)
	assert.Equal(t, string(payload), text(t, v))
	v, err = c.DoCmd(ctx, Cmd("TTL", "conn:cmd:bin"))
	require.NoError(t, err)
	ttl, err := v.Int()
	require.NoError(t, err)
	assert.InDelta(t, 60, ttl, 5)

	vs, err := c.DoMultiCmd(ctx,
		Cmd("SET", "conn:cmd:f").Float(2.5),
		Cmd("INCRBYFLOAT", "conn:cmd:f").Float(0.25),
		Cmd("SET", "conn:cmd:i").Int(-7),
		Cmd("INCRBY", "conn:cmd:i").Int(10),
		Cmd("GET", "conn:cmd:bin"))
	require.NoError(t, err)
	require.Len(t, vs, 5)
	assert.Equal(t, "2.75", text(t, vs[1]))
	n, err := vs[3].Int()
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	assert.Equal(t, string(payload), text(t, vs[4]))

	v, err = c.DoCmd(ctx, Cmd("NOSUCHCOMMAND"))
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "ERR", re.Code)
	assert.Equal(t, resp.SimpleError, v.Kind())
}

func TestDoCmdRefusesWhatDoRefuses(t *testing.T) {
	c := dialTest(t, nil)
	ctx := testContext(t)
	_, err := c.DoCmd(ctx, Command{})
	assert.ErrorIs(t, err, errEmptyCommand)
	_, err = c.DoCmd(ctx, Cmd("SUBSCRIBE", "ch"))
	assert.ErrorContains(t, err, "conn: SUBSCRIBE is answered by push frames")
	_, err = c.DoMultiCmd(ctx, Cmd("PING"), Command{})
	assert.ErrorIs(t, err, errEmptyCommand)
	vs, err := c.DoMultiCmd(ctx)
	assert.NoError(t, err)
	assert.Nil(t, vs)
	// The Conn is still in step: nothing was sent.
	v, err := c.DoCmd(ctx, Cmd("PING"))
	require.NoError(t, err)
	assert.Equal(t, "PONG", text(t, v))
}

func TestIsBlockingCmd(t *testing.T) {
	for _, tt := range []struct {
		cmd  Command
		want bool
	}{
		{Cmd("BLMOVE", "a", "b", "LEFT", "RIGHT").Float(0.5), true},
		{Cmd("XREAD", "COUNT").Int(1).Arg("BLOCK").Int(0).Args("STREAMS", "s", "$"), true},
		{Cmd("XREAD").Args("STREAMS", "s", "0"), false},
		{Cmd("WAIT").Int(1).Int(0), true},
		{Cmd("GET", "k"), false},
		{Command{}, false},
	} {
		assert.Equal(t, tt.want, isBlockingCmd(&tt.cmd), "%q", tt.cmd.Strings())
	}
}

// TestClientDoCmdAfterConnLoss: DoCmd and DoMultiCmd on a Client whose
// shared Conn died wait for the redial and are sent on the new Conn, as Do
// is, since they were never written.
func TestClientDoCmdAfterConnLoss(t *testing.T) {
	cl, ctx := newTestClient(t, redistest.Server().Addr)
	key := clientKey(t, "k")
	_, err := cl.DoCmd(ctx, Cmd("SET", key).Int(1))
	require.NoError(t, err)

	old := cl.current.Load()
	require.NoError(t, old.Close())
	v, err := cl.DoCmd(ctx, Cmd("INCRBY", key).Int(2))
	require.NoError(t, err)
	assert.Equal(t, int64(3), mustInt(t, v))

	old = cl.current.Load()
	require.NoError(t, old.Close())
	vs, err := cl.DoMultiCmd(ctx, Cmd("INCRBY", key).Int(4), Cmd("GET", key))
	require.NoError(t, err)
	assert.Equal(t, "7", text(t, vs[1]))
	assert.NotSame(t, old, cl.current.Load())

	require.NoError(t, cl.Close())
	_, err = cl.DoCmd(ctx, Cmd("GET", key))
	assert.ErrorIs(t, err, ErrClosed)
	_, err = cl.DoMultiCmd(ctx, Cmd("GET", key))
	assert.ErrorIs(t, err, ErrClosed)
}

// TestClientDoMultiCmdBlocking: a batch holding a blocking command runs on
// a Conn of its own, so the shared Conn serves others while it waits.
func TestClientDoMultiCmdBlocking(t *testing.T) {
	server := redistest.Server()
	cl, ctx := newTestClient(t, server.Addr)
	list := clientKey(t, "list")
	got := make(chan []resp.Value, 1)
	go func() {
		vs, err := cl.DoMultiCmd(ctx, Cmd("PING"), Cmd("BLPOP", list).Int(0))
		assert.NoError(t, err)
		got <- vs
	}()
	require.Eventually(t, func() bool {
		info, err := server.Info(ctx, "clients")
		return err == nil && info["blocked_clients"] != "" && info["blocked_clients"] != "0"
	}, 10*time.Second, time.Millisecond, "BLPOP blocks on the server")
	for range 10 {
		_, err := cl.DoCmd(ctx, Cmd("SET", clientKey(t, "other"), "v"))
		require.NoError(t, err, "the shared Conn is not held up")
	}
	select {
	case <-got:
		t.Fatal("BLPOP returned before anything was pushed")
	default:
	}
	_, err := cl.DoCmd(ctx, Cmd("RPUSH", list, "job"))
	require.NoError(t, err)
	vs := <-got
	require.Len(t, vs, 2)
	require.Len(t, vs[1].Elems(), 2)
	assert.Equal(t, "job", text(t, vs[1].Elems()[1]))
}
