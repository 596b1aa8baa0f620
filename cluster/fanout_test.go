package cluster

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// spreadKeys writes n keys, prefix + i, spread over every slot, each
// holding its own name, and returns them.
func spreadKeys(t *testing.T, ctx context.Context, c *Client, prefix string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	cmds := make([][]string, n)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
		cmds[i] = []string{"SET", keys[i], keys[i]}
	}
	for len(cmds) > 0 {
		batch := cmds[:min(1000, len(cmds))]
		cmds = cmds[len(batch):]
		_, err := c.DoMulti(ctx, batch...)
		require.NoError(t, err)
	}
	return keys
}

func TestDBSIZESumsTheMasters(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	spreadKeys(t, ctx, c, uniqueKey(t, "k"), 300)
	v, err := c.Do(ctx, "DBSIZE")
	require.NoError(t, err)
	got, err := v.Int()
	require.NoError(t, err)
	var want int64
	for _, m := range redistest.Cluster().Masters() {
		v, err := m.Do(ctx, "DBSIZE")
		require.NoError(t, err)
		n, _ := v.Int()
		want += n
	}
	assert.Equal(t, want, got)
	assert.GreaterOrEqual(t, got, int64(300))
}

func TestKeysFindsEveryKey(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 60*time.Second)
	prefix := uniqueKey(t, "k")
	keys := spreadKeys(t, ctx, c, prefix, 10000)
	v, err := c.Do(ctx, "KEYS", prefix+"*")
	require.NoError(t, err)
	var got []string
	for _, e := range v.Elems() {
		s, err := e.Text()
		require.NoError(t, err)
		got = append(got, s)
	}
	slices.Sort(got)
	slices.Sort(keys)
	assert.Equal(t, keys, got)
}

func TestMGETAndDELSplitBySlot(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	prefix := uniqueKey(t, "k")
	keys := spreadKeys(t, ctx, c, prefix, 1000)
	missing := prefix + "missing"
	args := append([]string{"MGET"}, keys...)
	args = append(args[:500], append([]string{missing}, args[500:]...)...) // a missing key in the middle
	v, err := c.Do(ctx, args...)
	require.NoError(t, err)
	require.Len(t, v.Elems(), len(args)-1)
	for i, e := range v.Elems() {
		if args[i+1] == missing {
			assert.True(t, e.IsNull(), "the missing key's place")
			continue
		}
		s, err := e.Text()
		require.NoError(t, err)
		require.Equal(t, args[i+1], s, "reply %d", i)
	}

	// MSET over many slots, then EXISTS and DEL sum their counts.
	mset := []string{"MSET"}
	for i := range 100 {
		mset = append(mset, prefix+"m"+strconv.Itoa(i), "v")
	}
	v, err = c.Do(ctx, mset...)
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "OK", s)
	v, err = c.Do(ctx, append([]string{"EXISTS", missing}, keys[:100]...)...)
	require.NoError(t, err)
	n, _ := v.Int()
	assert.Equal(t, int64(100), n)
	v, err = c.Do(ctx, append([]string{"DEL", missing}, keys...)...)
	require.NoError(t, err)
	n, _ = v.Int()
	assert.Equal(t, int64(1000), n)
	v, err = c.Do(ctx, "MGET", keys[0], keys[999])
	require.NoError(t, err)
	assert.True(t, v.Elems()[0].IsNull() && v.Elems()[1].IsNull(), "deleted")

	// In a batch too, beside other commands.
	replies, err := c.DoMulti(ctx, []string{"SET", keys[0], "a"}, []string{"MGET", keys[0], keys[1], keys[2]}, []string{"ECHO", "x"})
	require.NoError(t, err)
	require.Len(t, replies, 3)
	require.Len(t, replies[1].Elems(), 3)
	s, _ = replies[1].Elems()[0].Text()
	assert.Equal(t, "a", s)
	s, _ = replies[2].Text()
	assert.Equal(t, "x", s)
}

func TestFLUSHALLEmptiesEveryMaster(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	spreadKeys(t, ctx, c, uniqueKey(t, "k"), 300)
	v, err := c.Do(ctx, "FLUSHALL")
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "OK", s)
	for _, m := range redistest.Cluster().Masters() {
		v, err := m.Do(ctx, "DBSIZE")
		require.NoError(t, err)
		n, _ := v.Int()
		assert.Zero(t, n, "%s", m)
	}
}

func TestScriptLoadReachesEveryMaster(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	script := "return redis.call('GET', KEYS[1]) .. '" + uniqueKey(t, "") + "'"
	v, err := c.Do(ctx, "SCRIPT", "LOAD", script)
	require.NoError(t, err)
	sha, err := v.Text()
	require.NoError(t, err)
	for _, tags := range masterTags(t, c, 1) {
		key := tags[0] + "k"
		_, err := c.Do(ctx, "SET", key, "v")
		require.NoError(t, err)
		_, err = c.Do(ctx, "EVALSHA", sha, "1", key)
		require.NoError(t, err, "EVALSHA on the master of %s", key)
	}
	v, err = c.Do(ctx, "SCRIPT", "EXISTS", sha, "0000000000000000000000000000000000000000")
	require.NoError(t, err)
	require.Len(t, v.Elems(), 2)
	yes, _ := v.Elems()[0].Int()
	no, _ := v.Elems()[1].Int()
	assert.Equal(t, []int64{1, 0}, []int64{yes, no}, "ANDed over the masters")
}

// TestTipsParsing reads a Redis 7 COMMAND entry's tips.
func TestTipsParsing(t *testing.T) {
	entry := func(name string, tips ...string) resp.Value {
		tv := make([]resp.Value, len(tips))
		for i, tip := range tips {
			tv[i] = resp.NewSimpleString(tip)
		}
		return resp.NewArray(resp.NewBulkString(name), resp.NewInt(1), resp.NewSet(), resp.NewInt(0), resp.NewInt(0), resp.NewInt(0),
			resp.NewSet(), resp.NewSet(tv...), resp.NewArray(), resp.NewArray())
	}
	commands, err := parseCommands(resp.NewArray(
		entry("dbsize", "request_policy:all_shards", "response_policy:agg_sum"),
		entry("keys", "request_policy:all_shards", "nondeterministic_output_order"),
		entry("latency", "nondeterministic_output", "request_policy:all_nodes", "response_policy:special"),
		entry("x", "request_policy:unheard_of", "response_policy:agg_min"),
		entry("get"),
	))
	require.NoError(t, err)
	addBuiltinTips(commands)
	for _, tc := range []struct {
		name     string
		request  requestPolicy
		response responsePolicy
	}{
		{"dbsize", requestAllShards, responseSum},
		{"keys", requestAllShards, responseDefault},
		{"latency", requestAllNodes, responseSpecial},
		{"x", requestDefault, responseMin},
		{"get", requestDefault, responseDefault},
	} {
		ci := commands[tc.name]
		assert.Equal(t, tc.request, ci.request, tc.name)
		assert.Equal(t, tc.response, ci.response, tc.name)
	}
	assert.Nil(t, commands["get"].subcommands, "a server with tips gets no built-in ones")
}

// TestMergePolicies merges replies by each response policy.
func TestMergePolicies(t *testing.T) {
	i := resp.NewInt
	arr := resp.NewArray
	bulk := resp.NewBulkString
	errReply := resp.NewSimpleError("ERR boom")
	ints := func(v resp.Value) []int64 {
		var out []int64
		for _, e := range v.Elems() {
			n, _ := e.Int()
			out = append(out, n)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		policy  responsePolicy
		replies []resp.Value
		check   func(t *testing.T, v resp.Value)
	}{
		{"sum", responseSum, []resp.Value{i(1), i(2), i(3)}, func(t *testing.T, v resp.Value) { n, _ := v.Int(); assert.Equal(t, int64(6), n) }},
		{"min", responseMin, []resp.Value{i(4), i(2), i(3)}, func(t *testing.T, v resp.Value) { n, _ := v.Int(); assert.Equal(t, int64(2), n) }},
		{"max", responseMax, []resp.Value{i(4), i(2), i(7)}, func(t *testing.T, v resp.Value) { n, _ := v.Int(); assert.Equal(t, int64(7), n) }},
		{"and arrays", responseLogicalAnd, []resp.Value{arr(i(1), i(1), i(0)), arr(i(1), i(0), i(0))}, func(t *testing.T, v resp.Value) { assert.Equal(t, []int64{1, 0, 0}, ints(v)) }},
		{"or arrays", responseLogicalOr, []resp.Value{arr(i(1), i(0), i(0)), arr(i(0), i(0), i(1))}, func(t *testing.T, v resp.Value) { assert.Equal(t, []int64{1, 0, 1}, ints(v)) }},
		{"and booleans", responseLogicalAnd, []resp.Value{resp.NewBool(true), resp.NewBool(true)}, func(t *testing.T, v resp.Value) { n, _ := v.Int(); assert.Equal(t, int64(1), n) }},
		{"sum of an error", responseSum, []resp.Value{i(1), errReply}, func(t *testing.T, v resp.Value) { assert.Error(t, v.Err()) }},
		{"sum of strings", responseSum, []resp.Value{bulk("a"), bulk("b")}, func(t *testing.T, v resp.Value) { assert.ErrorContains(t, v.Err(), "can't aggregate") }},
		{"arrays of different lengths", responseSum, []resp.Value{arr(i(1)), arr(i(1), i(2))}, func(t *testing.T, v resp.Value) { assert.ErrorContains(t, v.Err(), "different lengths") }},
		{"all succeeded", responseAllSucceeded, []resp.Value{resp.NewSimpleString("OK"), resp.NewSimpleString("OK")}, func(t *testing.T, v resp.Value) { s, _ := v.Text(); assert.Equal(t, "OK", s) }},
		{"all succeeded, one failed", responseAllSucceeded, []resp.Value{resp.NewSimpleString("OK"), errReply}, func(t *testing.T, v resp.Value) { assert.Error(t, v.Err()) }},
		{"one succeeded", responseOneSucceeded, []resp.Value{errReply, resp.NewSimpleString("OK")}, func(t *testing.T, v resp.Value) { s, _ := v.Text(); assert.Equal(t, "OK", s) }},
		{"none succeeded", responseOneSucceeded, []resp.Value{errReply, errReply}, func(t *testing.T, v resp.Value) { assert.Error(t, v.Err()) }},
		{"special", responseSpecial, []resp.Value{bulk("a"), errReply}, func(t *testing.T, v resp.Value) {
			e := v.Elems()
			require.Len(t, e, 4)
			k, _ := e[0].Text()
			assert.Equal(t, "n1", k)
			assert.Error(t, e[3].Err(), "errors are kept per node")
		}},
		{"default arrays concatenated", responseDefault, []resp.Value{arr(bulk("a")), resp.NewSet(bulk("b"), bulk("c"))}, func(t *testing.T, v resp.Value) { assert.Len(t, v.Elems(), 3) }},
		{"default maps merged", responseDefault, []resp.Value{resp.NewMap(bulk("a"), i(1)), resp.NewMap(bulk("b"), i(2))}, func(t *testing.T, v resp.Value) {
			assert.Equal(t, resp.Map, v.Kind())
			assert.Len(t, v.Elems(), 4)
		}},
		{"default first non-null", responseDefault, []resp.Value{resp.NewNullBulk(), bulk("k")}, func(t *testing.T, v resp.Value) { s, _ := v.Text(); assert.Equal(t, "k", s) }},
		{"default error", responseDefault, []resp.Value{arr(), errReply}, func(t *testing.T, v resp.Value) { assert.Error(t, v.Err()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, merge(tc.policy, tc.replies, []string{"n1", "n2", "n3"}))
		})
	}
}

// TestFanoutOnPre70Server: a fake cluster whose COMMAND has no tips (as
// before Redis 7.0) fans out by the built-in table: DBSIZE is summed over
// the masters, KEYS concatenated, MGET split by slot and answered in order,
// SCRIPT LOAD reaches masters and replicas.
func TestFanoutOnPre70Server(t *testing.T) {
	fc := newFakeCluster(t, 4)
	addrs := fc.addrs()
	fc.setTopology(
		fakeShard{master: addrs[0], ranges: [][2]int{{0, 5000}}, replicas: []string{addrs[3]}},
		fakeShard{master: addrs[1], ranges: [][2]int{{5001, 10000}}},
		fakeShard{master: addrs[2], ranges: [][2]int{{10001, 16383}}},
	)
	var scriptLoads [4]atomic.Int64
	for i, a := range addrs {
		fc.onCommand(a, func(c *fakeserver.Conn, cmd []string) bool {
			switch strings.ToUpper(cmd[0]) {
			case "DBSIZE":
				_ = c.Reply(resp.NewInt(int64(10 * (i + 1))))
			case "KEYS":
				_ = c.Reply(resp.NewArray(resp.NewBulkString(a)))
			case "MGET":
				var vals []resp.Value
				for _, k := range cmd[1:] {
					vals = append(vals, resp.NewBulkString(k+"@"+a))
				}
				_ = c.Reply(resp.NewArray(vals...))
			case "SCRIPT":
				scriptLoads[i].Add(1)
				_ = c.Reply(resp.NewBulkString("sha"))
			default:
				return false
			}
			return true
		})
	}
	c := fc.client(nil)
	ctx := testContext(t, 10*time.Second)

	v, err := c.Do(ctx, "DBSIZE")
	require.NoError(t, err)
	n, _ := v.Int()
	assert.Equal(t, int64(10+20+30), n, "masters only")

	v, err = c.Do(ctx, "KEYS", "*")
	require.NoError(t, err)
	var got []string
	for _, e := range v.Elems() {
		s, _ := e.Text()
		got = append(got, s)
	}
	slices.Sort(got)
	assert.Equal(t, addrs[:3], got)

	keys := []string{keyForSlot("a", 12000), keyForSlot("b", 100), keyForSlot("c", 7000), keyForSlot("d", 101)}
	v, err = c.Do(ctx, append([]string{"MGET"}, keys...)...)
	require.NoError(t, err)
	require.Len(t, v.Elems(), len(keys))
	for i, k := range keys {
		s, _ := v.Elems()[i].Text()
		owner, _ := c.Topology().ShardFor(slots.Slot(k))
		assert.Equal(t, k+"@"+owner.Master.Addr, s, "reply %d in key order, from the key's master", i)
	}

	_, err = c.Do(ctx, "SCRIPT", "LOAD", "return 1")
	require.NoError(t, err)
	for i := range addrs {
		assert.Equal(t, int64(1), scriptLoads[i].Load(), "SCRIPT LOAD reached %s", addrs[i])
	}
}

// TestFanoutNodeFailsMidway: when one master's connection breaks during a
// fan-out, the command's error names that master.
func TestFanoutNodeFailsMidway(t *testing.T) {
	fc := newFakeCluster(t, 3)
	addrs := fc.addrs()
	fc.setTopology(
		fakeShard{master: addrs[0], ranges: [][2]int{{0, 5000}}},
		fakeShard{master: addrs[1], ranges: [][2]int{{5001, 10000}}},
		fakeShard{master: addrs[2], ranges: [][2]int{{10001, 16383}}},
	)
	for i, a := range addrs {
		fc.onCommand(a, func(c *fakeserver.Conn, cmd []string) bool {
			if !isCommand(cmd, "DBSIZE") {
				return false
			}
			if i == 1 {
				_ = c.Close() // the connection breaks with the command written
				return true
			}
			_ = c.Reply(resp.NewInt(1))
			return true
		})
	}
	c := fc.client(nil)
	_, err := c.Do(testContext(t, 10*time.Second), "DBSIZE")
	require.Error(t, err)
	t.Logf("error: %v", err)
	assert.Contains(t, err.Error(), addrs[1], "the error names the node that failed")
	assert.NotContains(t, err.Error(), addrs[0])
}

// TestSplitMGETAllocations: an MGET of 100 keys in 100 slots, split by slot
// over every master, allocates little beyond one slice per slot's reply:
// the split sorts its keys by slot instead of filling a map, each round's
// batches are windows of one array, the merged array is built in place, and
// the replies' values share slabs (see resp.Reader.ReadRun). It allocated
// 255 times before those.
func TestSplitMGETAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	prefix := uniqueKey(t, "k")
	seen := make(map[uint16]bool)
	args := []string{"MGET"}
	for i := 0; len(args) <= 100; i++ {
		key := prefix + strconv.Itoa(i)
		if s := slots.Slot(key); !seen[s] {
			seen[s] = true
			args = append(args, key)
		}
	}
	cmds := make([][]string, len(args)-1)
	for i, key := range args[1:] {
		cmds[i] = []string{"SET", key, "0123456789abcdef"}
	}
	_, err := c.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(50, func() {
		v, err := c.Do(ctx, args...)
		if err != nil || len(v.Elems()) != len(args)-1 {
			t.Fatal(len(v.Elems()), err)
		}
	})
	t.Logf("%v allocations per MGET of 100 keys in 100 slots", allocs)
	assert.LessOrEqual(t, allocs, 160.0)
}
