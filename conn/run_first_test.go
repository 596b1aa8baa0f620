package conn

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// TestRunTakesTheFirstReply: for a DoMulti or a DoMultiCmd, the reader waits for a socket read and then
// decodes its first reply in the run with the others (see readNext), so a
// DoMulti's first value shares the slab of the rest, and its first MGET's
// elements the allocation of the next one's. Before, the first reply of a
// read was decoded on its own and allocated its own memory: a DoMulti of
// 100 GETs cost 3 allocations, not 2 (TestDoMultiTwoAllocations). Values of 20 bytes are past the allocator's tiny
// blocks: two allocations of their own never lie back to back.
func TestRunTakesTheFirstReply(t *testing.T) {
	t.Run("DoMulti", func(t *testing.T) {
		testRunTakesTheFirstReply(t, func(ctx context.Context, c *Conn, cmds ...[]string) ([]resp.Value, error) {
			return c.DoMulti(ctx, cmds...)
		})
	})
	t.Run("DoMultiCmd", func(t *testing.T) {
		testRunTakesTheFirstReply(t, func(ctx context.Context, c *Conn, cmds ...[]string) ([]resp.Value, error) {
			commands := make([]Command, len(cmds))
			for i, args := range cmds {
				commands[i] = Cmd(args[0], args[1:]...)
			}
			return c.DoMultiCmd(ctx, commands...)
		})
	})
}

func testRunTakesTheFirstReply(t *testing.T, doMulti func(context.Context, *Conn, ...[]string) ([]resp.Value, error)) {
	val := func(c byte) string { return strings.Repeat(string(c), 20) }
	bulk := func(c byte) string { return "$20\r\n" + val(c) + "\r\n" }
	// A PING first: a new Conn's reader goroutine starts out reading, and
	// one already waiting for bytes when the DoMulti begins decodes the
	// first reply alone; once it has lent the socket, it waits as
	// readNext says.
	s := fakeserver.New(t).Script(fakeserver.AcceptHello(),
		fakeserver.Expect("PING"), fakeserver.ReplyRaw([]byte("+PONG\r\n")),
		fakeserver.Expect("GET", "a"), fakeserver.Expect("GET", "b"),
		fakeserver.ReplyRaw([]byte(bulk('A')+bulk('B'))),
		fakeserver.Expect("MGET", "c"), fakeserver.Expect("MGET", "d"),
		fakeserver.ReplyRaw([]byte("*1\r\n"+bulk('C')+"*1\r\n"+bulk('D'))),
		fakeserver.Stall(nil))
	ctx := testContext(t)
	c, err := NewConn(ctx, s.Pipe(), nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(ctx, "PING")
	require.NoError(t, err)

	text := func(v resp.Value) string {
		s, err := v.Text()
		require.NoError(t, err)
		return s
	}
	gets, err := doMulti(ctx, c, []string{"GET", "a"}, []string{"GET", "b"})
	require.NoError(t, err)
	a, b := text(gets[0]), text(gets[1])
	require.Equal(t, []string{val('A'), val('B')}, []string{a, b})
	assert.Equal(t, unsafe.Add(unsafe.Pointer(unsafe.StringData(a)), len(a)), unsafe.Pointer(unsafe.StringData(b)),
		"the first value shares the slab of the next")

	mgets, err := doMulti(ctx, c, []string{"MGET", "c"}, []string{"MGET", "d"})
	require.NoError(t, err)
	require.Len(t, mgets[0].Elems(), 1)
	require.Len(t, mgets[1].Elems(), 1)
	assert.Equal(t, val('C'), text(mgets[0].Elems()[0]))
	assert.Equal(t, val('D'), text(mgets[1].Elems()[0]))
}

// TestDoMultiTwoAllocations: a pipeline of 100 GETs of 16-byte values (by
// DoMulti and by DoMultiCmd), whose replies come in one socket read, costs the slice of replies and one slab
// for all the values, the first one's included (3 allocations before: see
// TestRunTakesTheFirstReply).
func TestDoMultiTwoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c := dialTest(t, nil)
	ctx := testContext(t)
	cmds := make([][]string, 100)
	for i := range cmds {
		key := "conn:first:" + strconv.Itoa(i)
		_, err := c.Do(ctx, "SET", key, benchValue)
		require.NoError(t, err)
		cmds[i] = []string{"GET", key}
	}
	commands := make([]Command, len(cmds))
	for i, args := range cmds {
		commands[i] = Cmd(args[0], args[1:]...)
	}
	for _, tc := range []struct {
		name string
		call func() ([]resp.Value, error)
	}{
		{"DoMulti", func() ([]resp.Value, error) { return c.DoMulti(ctx, cmds...) }},
		{"DoMultiCmd", func() ([]resp.Value, error) { return c.DoMultiCmd(ctx, commands...) }},
	} {
		allocs := testing.AllocsPerRun(100, func() {
			vals, err := tc.call()
			if err != nil || len(vals) != len(cmds) {
				t.Fatal(len(vals), err)
			}
		})
		// Replies that a loaded machine splits over two reads need a
		// second slab, now and then.
		assert.Less(t, allocs, 3.0, "allocations per %s of 100 GETs", tc.name)
	}
}
