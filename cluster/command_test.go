package cluster

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// hideType returns d out of the compiler's sight, so that calls through it
// are real interface calls and not devirtualized.
//
//go:noinline
func hideType[T any](d T) T { return d }

func TestDoCmdRoutesByKeysOfEveryType(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	payload := []byte{0, 1, '\r', '\n', 0xff}
	// Keys in every shard, as strings, as []byte and as numbers: a wrong
	// route would come back MOVED, which DoCmd follows, so each shard's
	// key is checked on its master directly too.
	for shard := range 3 {
		slot := shard*(slots.NumSlots/3) + 100
		key := keyForSlot(uniqueKey(t, "k"), slot)
		_, err := c.DoCmd(ctx, conn.Cmd("SET").Bytes([]byte(key)).Bytes(payload).Arg("EX").Int(60))
		require.NoError(t, err)
		v, err := c.DoCmd(ctx, conn.Cmd("GET", key))
		require.NoError(t, err)
		got, err := v.Text()
		require.NoError(t, err)
		assert.Equal(t, string(payload), got)

		info, _ := c.commands.lookup("SET")
		var cmd = conn.Cmd("SET").Bytes([]byte(key)).Int(1)
		assert.Equal(t, slot, slotOfCmd(info, cmd), "a []byte key routes by its bytes")
	}
	n := int64(time.Now().UnixNano() % 1e9)
	_, err := c.DoCmd(ctx, conn.Cmd("SET").Int(n).Arg("number key"))
	require.NoError(t, err)
	v, err := c.Do(ctx, "GET", strconv.FormatInt(n, 10))
	require.NoError(t, err)
	assert.Equal(t, "number key", mustText(t, v))
	info, _ := c.commands.lookup("GET")
	assert.Equal(t, int(slots.Slot(strconv.FormatInt(n, 10))), slotOfCmd(info, conn.Cmd("GET").Int(n)),
		"a number key routes by its decimal text")
}

// slotOfCmd is the slot DoCmd routes cmd to, found the way DoMultiCmd
// views it.
func slotOfCmd(info *commandInfo, cmd conn.Command) int {
	slot, _ := info.keySlot(viewCommands([]conn.Command{cmd})[0])
	return slot
}

func mustText(t *testing.T, v resp.Value) string {
	t.Helper()
	s, err := v.Text()
	require.NoError(t, err, "reply %v", v)
	return s
}

func TestDoCmdNumKeysAsNumber(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	tag := "{" + uniqueKey(t, "") + "}"
	script := "return redis.call('SET', KEYS[1], ARGV[1])"
	v, err := c.DoCmd(ctx, conn.Cmd("EVAL", script).Int(1).Arg(tag+"a").Int(7))
	require.NoError(t, err)
	assert.Equal(t, "OK", mustText(t, v))
	v, err = c.Do(ctx, "GET", tag+"a")
	require.NoError(t, err)
	assert.Equal(t, "7", mustText(t, v))

	// numkeys as a number still finds both keys, so they are checked.
	_, err = c.DoCmd(ctx, conn.Cmd("EVAL", script).Int(2).Args(keyForSlot("a", 1), keyForSlot("b", 2)))
	assert.ErrorIs(t, err, ErrCrossSlot)
}

func TestDoCmdLongCommand(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	tag := "{" + uniqueKey(t, "") + "}"
	cmd := conn.Cmd("MSET")
	for i := range 30 { // 61 arguments: more than DoCmd views on its stack
		cmd = cmd.Arg(tag + strconv.Itoa(i)).Int(int64(i))
	}
	_, err := c.DoCmd(ctx, cmd)
	require.NoError(t, err)
	v, err := c.Do(ctx, "GET", tag+"29")
	require.NoError(t, err)
	assert.Equal(t, "29", mustText(t, v))

	// Many numbers: more text than the stack scratch holds.
	many := conn.Cmd("RPUSH", tag+"list")
	for i := range 20 {
		many = many.Int(-1 << 62).Float(float64(i) + 0.125)
	}
	_, err = c.DoCmd(ctx, many)
	require.NoError(t, err)
	v, err = c.Do(ctx, "LRANGE", tag+"list", "-2", "-1")
	require.NoError(t, err)
	require.Len(t, v.Elems(), 2)
	assert.Equal(t, strconv.FormatInt(-1<<62, 10), mustText(t, v.Elems()[0]))
	assert.Equal(t, "19.125", mustText(t, v.Elems()[1]))
}

func TestDoMultiCmdAcrossNodes(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	var cmds []conn.Command
	var keys []string
	for i := range 12 {
		key := keyForSlot(uniqueKey(t, "k"), i*(slots.NumSlots/12))
		keys = append(keys, key)
		cmds = append(cmds, conn.Cmd("SET", key).Int(int64(i)).Arg("EX").Int(60), conn.Cmd("INCRBYFLOAT").Bytes([]byte(key)).Float(0.5))
	}
	vs, err := c.DoMultiCmd(ctx, cmds...)
	require.NoError(t, err)
	require.Len(t, vs, len(cmds))
	for i := range keys {
		assert.Equal(t, strconv.Itoa(i)+".5", mustText(t, vs[2*i+1]))
	}
	// SINTER has no request_policy tip, so its keys must share a slot
	// (MGET's multi_shard tip splits it by slot instead).
	_, err = c.DoMultiCmd(ctx, conn.Cmd("SINTER", keys[0], keys[1]))
	assert.ErrorIs(t, err, ErrCrossSlot)
	vs, err = c.DoMultiCmd(ctx)
	assert.NoError(t, err)
	assert.Empty(t, vs)
	_, err = c.DoCmd(ctx, conn.Command{})
	assert.Error(t, err)
}

// TestDoCmdAllocations: through conn.Universal, a cluster GET allocates
// its value only, SET nothing, SET of a []byte value nothing, and number
// arguments nothing (a slab for their text, shared by thousands of calls,
// rounds to zero).
func TestDoCmdAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c := newTestClient(t, nil)
	u := hideType[conn.Universal](c)
	key := uniqueKey(t, "k")
	value := []byte("0123456789abcdef")
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"background", context.Background()}, {"deadline", testContext(t, 20*time.Second)}} {
		_, err := u.DoCmd(tc.ctx, conn.Cmd("SET", key, "0123456789abcdef"))
		require.NoError(t, err)
		for _, op := range []struct {
			name string
			max  float64
			cmd  conn.Command
		}{
			{"GET", 1, conn.Cmd("GET", key)},
			{"SET", 0, conn.Cmd("SET", key, "0123456789abcdef")},
			{"SET []byte", 0, conn.Cmd("SET", key).Bytes(value)},
			{"SET []byte EX int", 0, conn.Cmd("SET", key).Bytes(value).Arg("EX").Int(3600)},
			{"EVAL numkeys int", 1, conn.Cmd("EVAL", "return KEYS[1]").Int(1).Arg(key)},
		} {
			allocs := testing.AllocsPerRun(200, func() {
				if _, err := u.DoCmd(tc.ctx, op.cmd); err != nil {
					t.Fatal(err)
				}
			})
			assert.LessOrEqual(t, allocs, op.max, "%s with a %s context", op.name, tc.name)
		}
	}
}

func TestWatch(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	u := hideType[conn.Universal](c)
	tag := "{" + uniqueKey(t, "") + "}"
	_, err := c.Do(ctx, "SET", tag+"n", "1")
	require.NoError(t, err)

	// A check-and-set that nobody disturbs commits.
	err = u.Watch(ctx, func(tx conn.Doer) error {
		v, err := tx.DoCmd(ctx, conn.Cmd("GET", tag+"n"))
		if err != nil {
			return err
		}
		n, _ := v.Int()
		vs, err := tx.DoMultiCmd(ctx, conn.Cmd("MULTI"), conn.Cmd("SET", tag+"n").Int(n*10), conn.Cmd("EXEC"))
		require.NoError(t, err)
		assert.False(t, vs[2].IsNull(), "EXEC committed")
		return nil
	}, tag+"n", tag+"m")
	require.NoError(t, err)
	v, err := c.Do(ctx, "GET", tag+"n")
	require.NoError(t, err)
	assert.Equal(t, "10", mustText(t, v))

	// One whose key changes between WATCH and EXEC is aborted: EXEC null.
	err = u.Watch(ctx, func(tx conn.Doer) error {
		_, err := c.Do(ctx, "SET", tag+"n", "changed")
		require.NoError(t, err)
		vs, err := tx.DoMultiCmd(ctx, conn.Cmd("MULTI"), conn.Cmd("SET", tag+"n", "mine"), conn.Cmd("EXEC"))
		require.NoError(t, err)
		assert.True(t, vs[2].IsNull(), "EXEC aborted")
		return nil
	}, tag+"n")
	require.NoError(t, err)
	v, err = c.Do(ctx, "GET", tag+"n")
	require.NoError(t, err)
	assert.Equal(t, "changed", mustText(t, v))

	called := false
	err = u.Watch(ctx, func(conn.Doer) error { called = true; return nil }, keyForSlot("a", 1), keyForSlot("b", 2))
	assert.ErrorIs(t, err, ErrCrossSlot)
	assert.False(t, called)
}

// TestWatchFollowsMoved: with a routing table that sends the slot to the
// wrong master, WATCH is answered MOVED and Watch runs fn on the owner.
func TestWatchFollowsMoved(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	key := uniqueKey(t, "k")
	slot := int(slots.Slot(key))
	owner := c.table.Load().pick(slot, false)
	var wrong *node
	for other := range 3 {
		if n := c.table.Load().pick(other*(slots.NumSlots/3)+1, false); n != owner {
			wrong = n
			break
		}
	}
	require.NotNil(t, wrong)
	c.table.Store(c.table.Load().withSlot(slot, wrong.addr, &c.nodes))

	runs := 0
	err := c.Watch(ctx, func(tx conn.Doer) error {
		runs++
		_, err := tx.DoCmd(ctx, conn.Cmd("SET", key, "v"))
		return err
	}, key)
	require.NoError(t, err)
	assert.Equal(t, 1, runs)
	assert.Equal(t, owner, c.table.Load().pick(slot, false), "MOVED patched the table")
}
