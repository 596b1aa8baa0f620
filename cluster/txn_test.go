package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// masterTags returns, for every shard of c's topology, perShard hash tags
// ("{123}") of slots that shard serves.
func masterTags(t *testing.T, c *Client, perShard int) [][]string {
	t.Helper()
	topo := c.Topology()
	var tags [][]string
	for _, sh := range topo.Shards {
		if len(sh.Ranges) == 0 {
			continue
		}
		var list []string
		first, last := int(sh.Ranges[0][0]), int(sh.Ranges[0][1])
		for i := range perShard {
			list = append(list, keyForSlot("", first+(i*97)%(last-first+1)))
		}
		tags = append(tags, list)
	}
	require.GreaterOrEqual(t, len(tags), 3, "the harness cluster has three masters")
	return tags
}

// getInt reads an integer key through c; a missing key reads as 0.
func getInt(t *testing.T, ctx context.Context, c *Client, key string) int64 {
	t.Helper()
	v, err := c.Do(ctx, "GET", key)
	require.NoError(t, err, key)
	if v.IsNull() {
		return 0
	}
	n, err := v.Int()
	require.NoError(t, err, key)
	return n
}

// TestTransactionRunsOnce: a transaction in a batch whose other commands go
// to other masters (before it, after it, or another transaction) runs
// exactly once, and every reply is in its place. Before, the whole batch
// bounced between the masters on the other commands' MOVED and the
// transaction ran up to nine times.
func TestTransactionRunsOnce(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	tags := masterTags(t, c, 1)
	u, other, third := tags[0][0]+uniqueKey(t, ""), tags[1][0]+uniqueKey(t, ""), tags[2][0]+uniqueKey(t, "")
	_, err := c.Do(ctx, "SET", other+"k", "k")
	require.NoError(t, err)

	multi, exec := []string{"MULTI"}, []string{"EXEC"}
	incr := func(key string) []string { return []string{"INCR", key} }
	get := []string{"GET", other + "k"}
	for _, tc := range []struct {
		name     string
		cmds     [][]string
		counters []string // each must be 1 afterwards
	}{
		{"keyed command after", [][]string{multi, incr(u + "a"), exec, get}, []string{u + "a"}},
		{"keyed command before", [][]string{get, multi, incr(u + "b"), exec}, []string{u + "b"}},
		{"SET after EXEC", [][]string{multi, incr(u + "c"), exec, {"SET", other + "s", "v"}}, []string{u + "c"}},
		{"two transactions", [][]string{multi, incr(u + "d"), exec, multi, incr(other + "d"), exec, get}, []string{u + "d", other + "d"}},
		{"three masters", [][]string{get, multi, incr(third + "e"), incr(third + "f"), exec, {"ECHO", "x"}, multi, incr(u + "e"), exec}, []string{third + "e", third + "f", u + "e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			replies, err := c.DoMulti(ctx, tc.cmds...)
			assert.NoError(t, err)
			for _, key := range tc.counters {
				assert.Equal(t, int64(1), getInt(t, ctx, c, key), "%s ran once", key)
			}
			require.Len(t, replies, len(tc.cmds))
			inTxn := false
			for i, cmd := range tc.cmds {
				v := replies[i]
				require.NoError(t, v.Err(), "reply %d to %v", i, cmd)
				switch {
				case isCommand(cmd, "MULTI"):
					inTxn = true
				case isCommand(cmd, "EXEC"):
					inTxn = false
					for _, e := range v.Elems() {
						n, err := e.Int()
						require.NoError(t, err)
						assert.Equal(t, int64(1), n, "EXEC at %d", i)
					}
				case inTxn:
					s, _ := v.Text()
					assert.Equal(t, "QUEUED", s, "reply %d", i)
				case isCommand(cmd, "GET"):
					s, _ := v.Text()
					assert.Equal(t, "k", s, "reply %d", i)
				}
			}
		})
	}
}

// TestCrossSlotTransactionRefusedUnsent: a transaction whose keys are on two
// masters is refused with ErrCrossSlot before anything is sent.
func TestCrossSlotTransactionRefusedUnsent(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 10*time.Second)
	tags := masterTags(t, c, 1)
	a, b := tags[0][0]+uniqueKey(t, "a"), tags[1][0]+uniqueKey(t, "b")
	masters := redistest.Cluster().Masters()
	before := make([]int, len(masters))
	for i, m := range masters {
		before[i] = commandCalls(t, ctx, m, "multi")
	}
	for _, cmds := range [][][]string{
		{{"MULTI"}, {"SET", a, "1"}, {"SET", b, "2"}, {"EXEC"}},
		{{"GET", a}, {"MULTI"}, {"MSET", a, "1", b, "2"}, {"EXEC"}},
	} {
		replies, err := c.DoMulti(ctx, cmds...)
		require.ErrorIs(t, err, ErrCrossSlot)
		assert.Nil(t, replies)
	}
	for i, m := range masters {
		assert.Equal(t, before[i], commandCalls(t, ctx, m, "multi"), "no MULTI reached %s", m)
	}
	for _, k := range []string{a, b} {
		assert.Zero(t, getInt(t, ctx, c, k), "nothing was written")
	}

	_, err := c.DoMulti(ctx, []string{"MULTI"}, []string{"SET", a, "1"})
	require.ErrorContains(t, err, "no EXEC or DISCARD")
	assert.Zero(t, getInt(t, ctx, c, a))
}

// propertyCmd is one command of a random batch and what its reply must be.
type propertyCmd struct {
	args  []string
	check func(v resp.Value) error
	// counter: a key the command (or its transaction) creates with
	// INCR/INCRBY, and the value it must hold afterwards.
	counter string
	want    int64
}

// TestDoMultiProperty sends random batches that mix keyed commands of every
// master, keyless commands and up to two transactions, with and without a
// slot migrating back and forth under them: every reply must sit at its
// command's position and every write, in a transaction or not, must run
// exactly once.
func TestDoMultiProperty(t *testing.T) {
	for _, migrating := range []bool{false, true} {
		t.Run(fmt.Sprintf("migrating=%v", migrating), func(t *testing.T) {
			testDoMultiProperty(t, migrating)
		})
	}
}

func testDoMultiProperty(t *testing.T, migrating bool) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 2*time.Minute)
	prefix := uniqueKey(t, "")
	tags := masterTags(t, c, 3)
	var flat []string
	for _, list := range tags {
		flat = append(flat, list...)
	}

	const movingSlot = 8001
	if migrating {
		movingTag := keyForSlot("", movingSlot)
		flat = append(flat, movingTag, movingTag, movingTag) // a third of the keys or so
	}
	// Every tag has known values to read: {tag}prefix:v<i> holds its own name.
	var sets [][]string
	var known []string
	readKey := make(map[string]string) // a known key of each tag
	for _, tag := range flat {
		readKey[tag] = tag + prefix + ":v0"
		for i := range 3 {
			key := tag + prefix + ":v" + strconv.Itoa(i)
			known = append(known, key)
			sets = append(sets, []string{"SET", key, key})
		}
	}
	_, err := c.DoMulti(ctx, sets...)
	require.NoError(t, err)

	batchDone := make(chan struct{}, 64)
	var migrations int
	stopMigrating := func() {}
	if migrating {
		cl := redistest.Cluster()
		owner, err := cl.MasterOf(ctx, movingSlot)
		require.NoError(t, err)
		to := otherMaster(t, owner)
		moveSlotBack(t, movingSlot, owner)
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			dest := []*redistest.Node{to, owner}
			for i := 0; ; i++ {
				// Move the slot once every few batches, so batches meet
				// every stage: before, during and after a move.
				for range 2 {
					select {
					case <-batchDone:
					case <-stop:
						done <- nil
						return
					}
				}
				if err := cl.MigrateSlot(ctx, movingSlot, dest[i%2]); err != nil {
					done <- err
					return
				}
				migrations++
			}
		}()
		stopMigrating = func() {
			close(stop)
			require.NoError(t, <-done)
		}
	}

	redirects := func() (n int) {
		for _, m := range redistest.Cluster().Masters() {
			n += errorCount(t, ctx, m, "MOVED") + errorCount(t, ctx, m, "ASK") + errorCount(t, ctx, m, "TRYAGAIN")
		}
		return n
	}
	redirectsBefore := redirects()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(1, seed))
	var counters []propertyCmd
	const workers, batches = 3, 60
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				mu.Lock()
				cmds := randomBatch(rng, fmt.Sprintf("%s:w%d:b%d", prefix, w, b), flat, known, readKey)
				mu.Unlock()
				args := make([][]string, len(cmds))
				for i := range cmds {
					args[i] = cmds[i].args
				}
				replies, err := c.DoMulti(ctx, args...)
				if !assert.NoError(t, err, "batch %v", args) {
					return
				}
				if !assert.Len(t, replies, len(cmds)) {
					return
				}
				for i, pc := range cmds {
					if err := pc.check(replies[i]); err != nil {
						t.Errorf("batch %d of worker %d, reply %d to %v: %v (got %v)", b, w, i, pc.args, err, replies[i])
					}
				}
				mu.Lock()
				for _, pc := range cmds {
					if pc.counter != "" {
						counters = append(counters, pc)
					}
				}
				mu.Unlock()
				select {
				case batchDone <- struct{}{}:
				default:
				}
			}
		})
	}
	wg.Wait()
	stopMigrating()
	for _, pc := range counters {
		assert.Equal(t, pc.want, getInt(t, ctx, c, pc.counter), "%s after %v", pc.counter, pc.args)
	}
	redirected := redirects() - redirectsBefore
	t.Logf("%d batches, %d writes checked, %d slot moves, %d MOVED, ASK or TRYAGAIN replies", workers*batches, len(counters), migrations, redirected)
	if migrating {
		assert.Positive(t, migrations)
		assert.Positive(t, redirected, "the batches met the moving slot")
	}
}

// randomBatch builds a batch of 1 to 30 commands: GETs of known keys (any
// master), ECHOs (keyless), INCRBYs of fresh keys, and up to two
// transactions, each over one tag, that INCR a fresh counter and read a
// known key.
func randomBatch(rng *rand.Rand, name string, tags, known []string, readKey map[string]string) []propertyCmd {
	n := 1 + rng.IntN(30)
	txns := rng.IntN(3)
	txnAt := map[int]bool{}
	for range txns {
		txnAt[rng.IntN(n)] = true
	}
	text := func(want string) func(resp.Value) error {
		return func(v resp.Value) error {
			if s, err := v.Text(); err != nil || s != want {
				return fmt.Errorf("want %q", want)
			}
			return nil
		}
	}
	integer := func(want int64) func(resp.Value) error {
		return func(v resp.Value) error {
			if got, err := v.Int(); err != nil || got != want {
				return fmt.Errorf("want %d", want)
			}
			return nil
		}
	}
	var cmds []propertyCmd
	for i := range n {
		if txnAt[i] {
			tag := tags[rng.IntN(len(tags))]
			counter := tag + name + ":txn" + strconv.Itoa(i)
			read := readKey[tag]
			exec := func(v resp.Value) error {
				e := v.Elems()
				if v.Err() != nil || len(e) != 2 {
					return fmt.Errorf("want [1 %q]", read)
				}
				if got, err := e[0].Int(); err != nil || got != 1 {
					return fmt.Errorf("counter %d, want 1", got)
				}
				return text(read)(e[1])
			}
			cmds = append(cmds,
				propertyCmd{args: []string{"MULTI"}, check: text("OK")},
				propertyCmd{args: []string{"INCR", counter}, check: text("QUEUED"), counter: counter, want: 1},
				propertyCmd{args: []string{"GET", read}, check: text("QUEUED")},
				propertyCmd{args: []string{"EXEC"}, check: exec},
			)
			continue
		}
		switch rng.IntN(3) {
		case 0:
			key := known[rng.IntN(len(known))]
			cmds = append(cmds, propertyCmd{args: []string{"GET", key}, check: text(key)})
		case 1:
			token := name + ":echo" + strconv.Itoa(i)
			cmds = append(cmds, propertyCmd{args: []string{"ECHO", token}, check: text(token)})
		default:
			key := tags[rng.IntN(len(tags))] + name + ":n" + strconv.Itoa(i)
			by := int64(i + 1)
			cmds = append(cmds, propertyCmd{args: []string{"INCRBY", key, strconv.FormatInt(by, 10)}, check: integer(by), counter: key, want: by})
		}
	}
	return cmds
}

// TestRefusedUnrun is the rule for sending a transaction again, reply by
// reply.
func TestRefusedUnrun(t *testing.T) {
	ok, queued := resp.NewSimpleString("OK"), resp.NewSimpleString("QUEUED")
	moved := resp.NewSimpleError("MOVED 3999 127.0.0.1:6381")
	ask := resp.NewSimpleError("ASK 3999 127.0.0.1:6381")
	tryagain := resp.NewSimpleError("TRYAGAIN Multiple keys request during rehashing of slot")
	execabort := resp.NewSimpleError("EXECABORT Transaction discarded because of previous errors.")
	syntax := resp.NewSimpleError("ERR syntax error")
	ran := resp.NewArray(resp.NewInt(1))
	for _, tc := range []struct {
		name    string
		replies []resp.Value
		want    string // the code to follow, "" for none
	}{
		{"ran", []resp.Value{ok, queued, ran}, ""},
		{"watch failed", []resp.Value{ok, queued, resp.NewNullArray()}, ""},
		{"exec moved", []resp.Value{ok, queued, moved}, "MOVED"},
		{"exec ask", []resp.Value{ok, queued, ask}, "ASK"},
		{"exec tryagain", []resp.Value{ok, queued, tryagain}, "TRYAGAIN"},
		{"queued moved", []resp.Value{ok, queued, moved, execabort}, "MOVED"},
		{"queued ask", []resp.Value{ok, ask, queued, execabort}, "ASK"},
		{"queued syntax error", []resp.Value{ok, syntax, queued, execabort}, ""},
		{"syntax error then moved", []resp.Value{ok, syntax, moved, execabort}, "MOVED"},
		{"discard", []resp.Value{ok, moved, ok}, ""},
		{"multi refused", []resp.Value{resp.NewSimpleError("ERR MULTI calls can not be nested"), moved, execabort}, ""},
		{"too short", []resp.Value{ok}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refusedUnrun(tc.replies)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			var re *resp.Error
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.want, re.Code)
		})
	}
}

// TestTransactionFollowsAsk: during a migration, a transaction on a key
// that already moved is refused by the source (ASK on the queued command,
// then EXECABORT) and runs once at the target, after ASKING.
func TestTransactionFollowsAsk(t *testing.T) {
	c := newTestClient(t, nil)
	ctx := testContext(t, 30*time.Second)
	tag := "{" + uniqueKey(t, "") + "}"
	key := tag + "n"
	slot := int(slots.Slot(tag))
	_, err := c.Do(ctx, "SET", key, "5")
	require.NoError(t, err)

	cl := redistest.Cluster()
	from, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	to := otherMaster(t, from)
	m, err := cl.StartMigration(ctx, slot, to)
	require.NoError(t, err)
	moveSlotBack(t, slot, from)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, m.Finish(ctx))
	})
	require.NoError(t, m.MoveKeys(ctx, key))
	askBefore := errorCount(t, ctx, from, "ASK")

	replies, err := c.DoMulti(ctx, []string{"MULTI"}, []string{"INCR", key}, []string{"EXEC"})
	require.NoError(t, err)
	require.Len(t, replies, 3)
	require.NoError(t, replies[2].Err())
	require.Len(t, replies[2].Elems(), 1)
	n, err := replies[2].Elems()[0].Int()
	require.NoError(t, err)
	assert.Equal(t, int64(6), n)
	assert.Equal(t, askBefore+1, errorCount(t, ctx, from, "ASK"), "the source answered ASK once")
	assert.Equal(t, int64(6), getInt(t, ctx, c, key), "the transaction ran once, at the target")
}
