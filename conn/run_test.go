package conn

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// answer is what a call started by goDo or goDoMulti returned: a Do's
// reply as the one value.
type answer struct {
	vals []resp.Value
	err  error
}

// goDo runs c.Do on a goroutine of its own.
func goDo(ctx context.Context, c *Conn, args ...string) <-chan answer {
	done := make(chan answer, 1)
	go func() {
		v, err := c.Do(ctx, args...)
		done <- answer{[]resp.Value{v}, err}
	}()
	return done
}

// goDoMulti runs c.DoMulti on a goroutine of its own.
func goDoMulti(ctx context.Context, c *Conn, cmds ...[]string) <-chan answer {
	done := make(chan answer, 1)
	go func() {
		vals, err := c.DoMulti(ctx, cmds...)
		done <- answer{vals, err}
	}()
	return done
}

// TestRunAnswersEveryShape: the replies to a Do, a DoMulti and another Do
// arrive in one write, so they are delivered as one run (see readNext); each
// caller gets its own, in order, the DoMulti all of its three. The fake is
// served over net.Pipe, where one write arrives in one read.
func TestRunAnswersEveryShape(t *testing.T) {
	first, batch := make(chan struct{}), make(chan struct{})
	s := fakeserver.New(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "a"), fakeserver.Signal(first),
		fakeserver.Expect("GET", "b"), fakeserver.Expect("INCR", "n"), fakeserver.Expect("GET", "none"),
		fakeserver.Signal(batch),
		fakeserver.Expect("GET", "d"),
		fakeserver.ReplyRaw([]byte("$1\r\nA\r\n$1\r\nB\r\n:7\r\n_\r\n+D\r\n")),
		fakeserver.Stall(nil))
	ctx := testContext(t)
	c, err := NewConn(ctx, s.Pipe(), nil)
	require.NoError(t, err)
	defer c.Close()

	one := goDo(ctx, c, "GET", "a")
	<-first
	many := goDoMulti(ctx, c, []string{"GET", "b"}, []string{"INCR", "n"}, []string{"GET", "none"})
	<-batch
	last := goDo(ctx, c, "GET", "d")

	text := func(v resp.Value) string {
		switch v.Kind() {
		case resp.Integer:
			n, _ := v.Int()
			return strconv.FormatInt(n, 10)
		case resp.Null:
			return "null"
		}
		s, err := v.Text()
		require.NoError(t, err)
		return s
	}
	for _, tc := range []struct {
		name string
		got  <-chan answer
		want []string
	}{
		{"Do", one, []string{"A"}},
		{"DoMulti", many, []string{"B", "7", "null"}},
		{"the last Do", last, []string{"D"}},
	} {
		a := <-tc.got
		require.NoError(t, a.err, tc.name)
		got := make([]string, len(a.vals))
		for i, v := range a.vals {
			got[i] = text(v)
		}
		assert.Equal(t, tc.want, got, tc.name)
	}
	st := c.Stats()
	assert.GreaterOrEqual(t, st.Commands, uint64(5), "every reply of the run counted")
}

// TestRunWithNobodyWaiting: a run that holds more replies than commands
// were written ends the Conn with a protocol error, after answering the
// callers that had their replies.
func TestRunWithNobodyWaiting(t *testing.T) {
	s := fakeserver.New(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "k"),
		fakeserver.ReplyRaw([]byte("$1\r\nv\r\n:1\r\n:2\r\n")),
		fakeserver.Stall(nil))
	ctx := testContext(t)
	c, err := NewConn(ctx, s.Pipe(), nil)
	require.NoError(t, err)
	defer c.Close()
	v, err := c.Do(ctx, "GET", "k")
	require.NoError(t, err)
	got, _ := v.Text()
	assert.Equal(t, "v", got)
	<-c.Done()
	err = c.Err()
	require.ErrorIs(t, err, resp.ErrProtocol)
	assert.Contains(t, err.Error(), "no command is waiting for")
}

// TestDoMultiAllocations: a pipeline of 100 GETs of 16-byte values costs
// the slice of replies and a few slabs for the values (see
// resp.Reader.ReadRun), not one allocation per value.
func TestDoMultiAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c := dialTest(t, nil)
	ctx := testContext(t)
	cmds := make([][]string, 100)
	for i := range cmds {
		key := fmt.Sprintf("conn:run:%d", i)
		_, err := c.Do(ctx, "SET", key, benchValue)
		require.NoError(t, err)
		cmds[i] = []string{"GET", key}
	}
	allocs := testing.AllocsPerRun(100, func() {
		vals, err := c.DoMulti(ctx, cmds...)
		if err != nil || len(vals) != len(cmds) {
			t.Fatal(len(vals), err)
		}
	})
	// One for the slice; 100 values of 16 bytes fill one slab of 4 KiB at
	// most once they come, in however many reads, with room to spare.
	t.Logf("%v allocations per DoMulti of 100 GETs", allocs)
	assert.LessOrEqual(t, allocs, 10.0, "allocations per DoMulti of 100 GETs")
}

// TestRunDoValuesOwnMemory: the replies of a DoMulti and then of two Do
// calls come in one write. The DoMulti's small values share a slab, but each
// Do's value (and each element of a Do's array) has memory of its own, so a
// value one caller keeps keeps nobody else's reply alive. Values of 20
// bytes are past the allocator's tiny blocks: two allocations of their own
// never lie back to back, 20 bytes apart.
func TestRunDoValuesOwnMemory(t *testing.T) {
	val := func(c byte) string { return strings.Repeat(string(c), 20) }
	bulk := func(c byte) string { return "$20\r\n" + val(c) + "\r\n" }
	first, second, third := make(chan struct{}), make(chan struct{}), make(chan struct{})
	s := fakeserver.New(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("GET", "b"), fakeserver.Expect("GET", "c"), fakeserver.Expect("GET", "d"), fakeserver.Signal(first),
		fakeserver.Expect("GET", "a"), fakeserver.Signal(second),
		fakeserver.Expect("MGET", "x", "y"), fakeserver.Signal(third),
		fakeserver.ReplyRaw([]byte(bulk('B')+bulk('C')+bulk('D')+bulk('A')+"*2\r\n"+bulk('X')+bulk('Y'))),
		fakeserver.Stall(nil))
	ctx := testContext(t)
	c, err := NewConn(ctx, s.Pipe(), nil)
	require.NoError(t, err)
	defer c.Close()

	many := goDoMulti(ctx, c, []string{"GET", "b"}, []string{"GET", "c"}, []string{"GET", "d"})
	<-first
	get := goDo(ctx, c, "GET", "a")
	<-second
	mget := goDo(ctx, c, "MGET", "x", "y")
	<-third

	texts := func(a answer) []string {
		require.NoError(t, a.err)
		vals := a.vals
		if len(vals) == 1 && vals[0].Kind() == resp.Array {
			vals = vals[0].Elems()
		}
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i], _ = v.Text()
		}
		return out
	}
	bc, a, xy := texts(<-many), texts(<-get), texts(<-mget)
	require.Equal(t, []string{val('B'), val('C'), val('D')}, bc)
	require.Equal(t, []string{val('A')}, a)
	require.Equal(t, []string{val('X'), val('Y')}, xy)
	backToBack := func(s, next string) bool {
		return uintptr(unsafe.Pointer(unsafe.StringData(s)))+uintptr(len(s)) == uintptr(unsafe.Pointer(unsafe.StringData(next)))
	}
	// The first reply is read as the reader waits for it (see readNext),
	// the rest as a run.
	assert.True(t, backToBack(bc[1], bc[2]), "a DoMulti's small values share a slab")
	assert.False(t, backToBack(bc[2], a[0]), "a Do's value is not in the DoMulti's slab")
	assert.False(t, backToBack(a[0], xy[0]), "nor next to the following reply")
	assert.False(t, backToBack(xy[0], xy[1]), "nor do the elements of a Do's array share")
}

// TestRunOverRESP2: over RESP2, where a run's arrays may be pub/sub frames
// (TestSendOverRESP2 failed with "a array reply that no command is waiting
// for" while runs skipped that check), the replies of a run of MGETs still
// reach their DoMulti in order.
func TestRunOverRESP2(t *testing.T) {
	c := dialTest(t, &Options{Protocol: 2})
	ctx := testContext(t)
	_, err := c.Do(ctx, "SET", "conn:run2", benchValue)
	require.NoError(t, err)
	cmds := make([][]string, 50)
	for i := range cmds {
		cmds[i] = []string{"MGET", "conn:run2", "conn:run2:none"}
	}
	vals, err := c.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	require.Len(t, vals, len(cmds))
	for i, v := range vals {
		require.Len(t, v.Elems(), 2, "reply %d", i)
		text, err := v.Elems()[0].Text()
		require.NoError(t, err)
		assert.Equal(t, benchValue, text)
		assert.True(t, v.Elems()[1].IsNull())
	}
}
