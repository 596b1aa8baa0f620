package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// newTestClient connects to the harness cluster and closes the client when
// the test ends.
func newTestClient(t testing.TB, opts *Options) *Client {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if len(opts.Addrs) == 0 {
		opts.Addrs = redistest.Cluster().Addrs()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := New(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// keyForSlot returns a key, with prefix, that hashes to slot.
func keyForSlot(prefix string, slot int) string {
	for i := 0; ; i++ {
		tag := strconv.Itoa(i)
		if int(slots.Slot(tag)) == slot {
			return prefix + "{" + tag + "}"
		}
	}
}

// uniqueKey returns a key no other test (or run) uses.
func uniqueKey(t testing.TB, name string) string {
	return fmt.Sprintf("%s:%s:%d", t.Name(), name, time.Now().UnixNano())
}

func TestNewNeedsSeeds(t *testing.T) {
	_, err := New(testContext(t, time.Second), nil)
	require.Error(t, err)
	_, err = New(testContext(t, time.Second), &Options{})
	require.Error(t, err)
}

func TestNewFailsWhenNoSeedAnswers(t *testing.T) {
	port, err := redistest.FreePort()
	require.NoError(t, err)
	ctx := testContext(t, 5*time.Second)
	_, err = New(ctx, &Options{Addrs: []string{"127.0.0.1:" + strconv.Itoa(port)}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cluster: ")
}

func TestNewWithOneGoodSeed(t *testing.T) {
	port, err := redistest.FreePort()
	require.NoError(t, err)
	addrs := []string{"127.0.0.1:" + strconv.Itoa(port), redistest.Cluster().Addrs()[1]}
	c := newTestClient(t, &Options{Addrs: addrs})
	topo := c.Topology()
	require.NotNil(t, topo)
	assert.Equal(t, slots.NumSlots, topo.Covered())
}

// TestRoutesToOwner checks, over slots spread across the whole range, that
// the table sends a key to the master the cluster says owns its slot.
func TestRoutesToOwner(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	cl := redistest.Cluster()
	for slot := 0; slot < slots.NumSlots; slot += 397 {
		owner, err := cl.MasterOf(ctx, slot)
		require.NoError(t, err)
		n := c.table.Load().pick(slot, false)
		require.NotNil(t, n)
		assert.Equal(t, owner.Addr, n.addr, "slot %d", slot)
	}
}

// TestCommandFamilies runs commands of each key-finding family through the
// client and checks their effects.
func TestCommandFamilies(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 20*time.Second)
	p := uniqueKey(t, "")
	tag := "{" + p + "}"
	do := func(args ...string) resp.Value {
		t.Helper()
		v, err := c.Do(ctx, args...)
		require.NoError(t, err, "%v", args)
		return v
	}
	text := func(args ...string) string {
		t.Helper()
		s, err := do(args...).Text()
		require.NoError(t, err, "%v", args)
		return s
	}
	integer := func(args ...string) int64 {
		t.Helper()
		n, err := do(args...).Int()
		require.NoError(t, err, "%v", args)
		return n
	}

	do("SET", p+"a", "1")
	assert.Equal(t, "1", text("GET", p+"a"))
	assert.Equal(t, "1", text("get", p+"a"))
	do("MSET", tag+"x", "x", tag+"y", "y")
	mget := do("MGET", tag+"x", tag+"y", tag+"none")
	require.Len(t, mget.Elems(), 3)
	assert.True(t, mget.Elems()[2].IsNull())
	assert.Equal(t, int64(2), integer("DEL", tag+"x", tag+"y"))
	assert.Equal(t, int64(2), integer("EVAL", "return #KEYS", "2", tag+"k1", tag+"k2"))
	assert.Equal(t, "v", text("EVAL", "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])", "1", p+"lua", "v"))
	do("XADD", tag+"s1", "*", "f", "v")
	do("XADD", tag+"s2", "*", "f", "v")
	xread := do("XREAD", "COUNT", "1", "STREAMS", tag+"s1", tag+"s2", "0", "0")
	assert.Equal(t, 2, xread.Len())
	do("ZADD", tag+"z1", "1", "a")
	do("ZADD", tag+"z2", "2", "b")
	assert.Equal(t, int64(2), integer("ZUNIONSTORE", tag+"zd", "2", tag+"z1", tag+"z2"))
	do("RPUSH", tag+"l1", "e")
	assert.Equal(t, "e", text("LMOVE", tag+"l1", tag+"l2", "LEFT", "RIGHT"))
	assert.Equal(t, "e", text("LINDEX", tag+"l2", "0"))
	assert.NotEmpty(t, text("OBJECT", "ENCODING", p+"a"))
	assert.Positive(t, integer("MEMORY", "USAGE", p+"a"))
	assert.Equal(t, "PONG", text("PING"))

	// A command unknown to the server comes back as the server's error.
	_, err := c.Do(ctx, "NOSUCHCOMMAND", "x")
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "ERR", re.Code)
}

func TestCrossSlotRefusedUnsent(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	a, b := keyForSlot(uniqueKey(t, "a"), 100), keyForSlot(uniqueKey(t, "b"), 9000)

	// Commands whose tips don't split them keep ErrCrossSlot (MSET and DEL
	// are split by slot instead: see fanout_test.go).
	_, err := c.Do(ctx, "SUNIONSTORE", a, b)
	require.ErrorIs(t, err, ErrCrossSlot)
	_, err = c.Do(ctx, "MSETNX", a, "1", b, "2")
	require.ErrorIs(t, err, ErrCrossSlot, "MSETNX promises all or nothing: never split")
	_, err = c.DoMulti(ctx, []string{"SET", a, "1"}, []string{"RENAME", a, b})
	require.ErrorIs(t, err, ErrCrossSlot)

	// Nothing was sent: neither key exists.
	for _, k := range []string{a, b} {
		v, err := c.Do(ctx, "EXISTS", k)
		require.NoError(t, err)
		n, err := v.Int()
		require.NoError(t, err)
		assert.Zero(t, n, k)
	}
}

func TestEmptyCommand(t *testing.T) {
	c := newTestClient(t, nil)
	_, err := c.Do(testContext(t, time.Second))
	require.Error(t, err)
	v, err := c.DoMulti(testContext(t, time.Second))
	require.NoError(t, err)
	assert.Empty(t, v)
}

func TestDoMultiInOrder(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	p := uniqueKey(t, "")
	var cmds [][]string
	for i := range 100 {
		cmds = append(cmds, []string{"SET", p + strconv.Itoa(i), strconv.Itoa(i)})
	}
	replies, err := c.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	require.Len(t, replies, 100)
	cmds = cmds[:0]
	for i := range 100 {
		cmds = append(cmds, []string{"GET", p + strconv.Itoa(i)})
	}
	cmds = append(cmds, []string{"PING"}, []string{"INCR", p + "0x"}, []string{"LPUSH", p + "0"})
	replies, err = c.DoMulti(ctx, cmds...)
	require.NoError(t, err)
	require.Len(t, replies, 103)
	for i := range 100 {
		s, err := replies[i].Text()
		require.NoError(t, err)
		assert.Equal(t, strconv.Itoa(i), s)
	}
	pong, _ := replies[100].Text()
	assert.Equal(t, "PONG", pong)
	n, _ := replies[101].Int()
	assert.Equal(t, int64(1), n)
	// An error reply stays in its place.
	var re *resp.Error
	require.ErrorAs(t, replies[102].Err(), &re)
	assert.Equal(t, "ERR", re.Code)
}

func TestDoMultiTransaction(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	tag := "{" + uniqueKey(t, "") + "}"
	replies, err := c.DoMulti(ctx,
		[]string{"MULTI"},
		[]string{"INCR", tag + "n"},
		[]string{"INCR", tag + "n"},
		[]string{"EXEC"})
	require.NoError(t, err)
	require.Len(t, replies, 4)
	exec := replies[3].Elems()
	require.Len(t, exec, 2)
	n, err := exec[1].Int()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
}

func TestCloseIsIdempotentAndConcurrent(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	_, err := c.Do(ctx, "SET", uniqueKey(t, "k"), "v")
	require.NoError(t, err)
	select {
	case <-c.Done():
		t.Fatal("Done is closed before Close")
	default:
	}
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() { errs[i] = c.Close() })
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assert.NoError(t, c.Close())
	<-c.Done() // closed once the first Close finished
	_, err = c.Do(ctx, "GET", "k")
	require.ErrorIs(t, err, conn.ErrClosed)
	_, err = c.DoMulti(ctx, []string{"GET", "k"})
	require.ErrorIs(t, err, conn.ErrClosed)
	_, err = c.Refresh(ctx)
	require.ErrorIs(t, err, conn.ErrClosed)
}

func TestCloseWhileBusy(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	p := uniqueKey(t, "")
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				_, err := c.Do(ctx, "SET", p+strconv.Itoa(g*1000+i%1000), "v")
				once.Do(func() { close(started) })
				if err != nil {
					assert.ErrorIs(t, err, conn.ErrClosed)
					return
				}
			}
		})
	}
	<-started
	c.triggerRefresh(RefreshRedirect)
	require.NoError(t, c.Close())
	wg.Wait()
}

func TestRefreshAndAccessors(t *testing.T) {
	opts := &Options{Conn: conn.Options{ClientName: "cluster-test"}}
	c := newTestClient(t, opts)
	assert.Equal(t, "cluster-test", c.ConnOptions().ClientName)
	ctx := testContext(t, 10*time.Second)

	// Concurrent refreshes share one read of the topology.
	var wg sync.WaitGroup
	topos := make([]*slots.Topology, 8)
	for i := range topos {
		wg.Go(func() {
			var err error
			topos[i], err = c.Refresh(ctx)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	for _, topo := range topos {
		require.NotNil(t, topo)
		assert.Equal(t, slots.NumSlots, topo.Covered())
	}
	assert.Same(t, c.Topology(), c.table.Load().topo)
	assert.Len(t, c.Topology().Shards, len(redistest.Cluster().Masters()))

	// A context that has ended makes Refresh return at once.
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err := c.Refresh(done)
	require.True(t, err == nil || errors.Is(err, context.Canceled), "%v", err)
}

func TestParseRedirect(t *testing.T) {
	from := &node{addr: "10.0.0.1:7000"}
	tests := []struct {
		msg  string
		slot int
		addr string
		ok   bool
	}{
		{"MOVED 3999 127.0.0.1:6381", 3999, "127.0.0.1:6381", true},
		{"ASK 0 host:1", 0, "host:1", true},
		{"MOVED 16383 :6380", 16383, "10.0.0.1:6380", true},
		{"MOVED 16384 h:1", 0, "", false},
		{"MOVED 99999999999999999999 h:1", 0, "", false},
		{"MOVED -1 h:1", 0, "", false},
		{"MOVED 12", 0, "", false},
		{"MOVED", 0, "", false},
		{"MOVED  h:1", 0, "", false},
		{"MOVED 1 [::1]:7000", 1, "[::1]:7000", true},
	}
	for _, tt := range tests {
		slot, addr, ok := parseRedirect(tt.msg, from)
		assert.Equal(t, tt.ok, ok, tt.msg)
		if tt.ok {
			assert.Equal(t, tt.slot, slot, tt.msg)
			assert.Equal(t, tt.addr, addr, tt.msg)
		}
	}
}

func TestDoAllocatesOnlyTheReply(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	key := uniqueKey(t, "k")
	_, err := c.Do(ctx, "SET", key, "0123456789abcdef")
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.Do(ctx, "GET", key); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 1.0, "routing must not allocate; the value's string is the one allocation")

	// A deadline of its own per call, as a server passes one: nothing
	// beyond what context.WithTimeout costs and the value.
	perCall := func(do func(ctx context.Context)) float64 {
		return testing.AllocsPerRun(200, func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			do(ctx)
			cancel()
		})
	}
	timeout := perCall(func(context.Context) {})
	get := perCall(func(ctx context.Context) {
		if _, err := c.Do(ctx, "GET", key); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, get-timeout, 1.0, "GET under its own deadline: %v allocations, WithTimeout alone %v", get, timeout)
}

func TestLearnsCommandsMissingFromTheTable(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	// Forget MGET, as if a module had added it after New.
	without := make(map[string]*commandInfo)
	for name, info := range *c.commands.commands.Load() {
		if name != "mget" {
			without[name] = info
		}
	}
	c.commands = newCommandTable(without)

	tag := "{" + uniqueKey(t, "") + "}"
	_, err := c.Do(ctx, "SET", tag+"a", "1")
	require.NoError(t, err)
	v, err := c.Do(ctx, "MGET", tag+"a", tag+"b")
	require.NoError(t, err)
	require.Len(t, v.Elems(), 2)
	info, ok := c.commands.lookup("MGET")
	require.True(t, ok, "learned with COMMAND INFO")
	slot, cross := info.keySlot([]string{"MGET", tag + "a", tag + "b"})
	assert.Equal(t, int(slots.Slot(tag)), slot)
	assert.False(t, cross)
	assert.Equal(t, requestMultiShard, info.request, "and its tips")
	v, err = c.Do(ctx, "MGET", tag+"a", "b")
	require.NoError(t, err, "split by slot, as the learned tips say")
	require.Len(t, v.Elems(), 2)
	s, _ := v.Elems()[0].Text()
	assert.Equal(t, "1", s)
}

func TestBlockingCommandLeavesTheNodeFree(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	tag := "{" + uniqueKey(t, "") + "}"
	released := make(chan error, 1)
	go func() {
		v, err := c.Do(ctx, "BLPOP", tag+"list", "5")
		if err == nil && len(v.Elems()) != 2 {
			err = fmt.Errorf("BLPOP returned %v", v)
		}
		released <- err
	}()
	// Commands to the same node, same slot even, go on while BLPOP waits;
	// one of them releases it.
	owner, err := redistest.Cluster().MasterOf(ctx, int(slots.Slot(tag)))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		v, err := owner.Do(ctx, "CLIENT", "LIST", "TYPE", "normal")
		require.NoError(t, err)
		s, _ := v.Text()
		return strings.Contains(s, "cmd=blpop")
	}, 5*time.Second, time.Millisecond)
	_, err = c.Do(ctx, "SET", tag+"other", "v")
	require.NoError(t, err)
	_, err = c.Do(ctx, "RPUSH", tag+"list", "x")
	require.NoError(t, err)
	require.NoError(t, <-released)
}
