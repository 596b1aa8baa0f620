package cluster

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

// clusterCallKey carries a call's number in its context.
type clusterCallKey struct{}

// TestHooksPropertyMigrations runs a random mix of calls (Do, DoCmd,
// batches across nodes with MULTI/EXEC units, DoCache, contexts ending at
// random points) while a slot moves from master to master and back and
// the node connections are killed now and then, and checks the calls
// against what the servers ran: each call INCRs a key of its own, once,
// so a call answered ran exactly once, one whose conn events were all
// unwritten never ran; every call's event names a master, Moved and Ask
// count the Redirect events, and Stats never goes down.
func TestHooksPropertyMigrations(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	cl := redistest.Cluster()
	masters := map[string]bool{}
	for _, m := range cl.Masters() {
		masters[m.Addr] = true
	}
	var mu sync.Mutex
	written := map[int][]bool{} // by call: each conn event's Written
	var badAddr, noCall atomic.Int64
	note := func(ctx context.Context, addr string, w bool) {
		id, ok := ctx.Value(clusterCallKey{}).(int)
		if !ok {
			noCall.Add(1) // the Client's own: refreshes (replicas asked too), probes
			return
		}
		if !masters[addr] {
			badAddr.Add(1)
		}
		mu.Lock()
		written[id] = append(written[id], w)
		mu.Unlock()
	}
	var redirects atomic.Int64
	opts := &Options{RefreshInterval: -1, Hooks: &Hooks{
		Redirect: func(context.Context, RedirectEvent) { redirects.Add(1) },
	}}
	name := "clusterprop" + strconv.FormatInt(time.Now().UnixNano(), 36)
	opts.Conn.ClientName = name
	opts.Conn.Hooks = &conn.Hooks{
		Command:  func(ctx context.Context, e conn.CommandEvent) { note(ctx, e.Addr, e.Written) },
		Pipeline: func(ctx context.Context, e conn.PipelineEvent) { note(ctx, e.Addr, e.Written) },
	}
	c := newTestClient(t, opts)

	// Keys of every call share a tag whose slot moves; MULTI units need
	// one slot.
	tag := "{" + uniqueKey(t, "moving") + "}"
	slot := int(slots.Slot(tag))
	home, err := cl.MasterOf(ctx, slot)
	require.NoError(t, err)
	away := otherMaster(t, home)
	moveSlotBack(t, slot, home)
	other := uniqueKey(t, "still") // a key on whichever slot it hashes to

	const workers, perWorker = 4, 120
	type result struct {
		key   string
		incrs int
		err   error
	}
	results := make([]result, workers*perWorker)
	var stop atomic.Bool
	var wg, bg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for j := range perWorker {
				i := w*perWorker + j
				key := tag + strconv.Itoa(i)
				cctx := context.WithValue(ctx, clusterCallKey{}, i)
				cancel := context.CancelFunc(func() {})
				if rng.IntN(3) == 0 {
					cctx, cancel = context.WithTimeout(cctx, time.Duration(rng.IntN(2000))*time.Microsecond)
				}
				r := result{key: key, incrs: 1}
				switch rng.IntN(5) {
				case 0:
					_, r.err = c.Do(cctx, "INCR", key)
				case 1:
					_, r.err = c.DoCmd(cctx, conn.Cmd("INCR", key))
				case 2: // a batch across nodes
					var vals []resp.Value
					vals, r.err = c.DoMulti(cctx, []string{"GET", other}, []string{"INCR", key})
					if r.err == nil {
						r.err = vals[1].Err()
					}
				case 3: // a MULTI/EXEC unit in a batch
					var vals []resp.Value
					vals, r.err = c.DoMulti(cctx, []string{"GET", other}, []string{"MULTI"}, []string{"INCR", key}, []string{"EXEC"})
					if r.err == nil {
						r.err = errors.Join(vals[1].Err(), vals[3].Err())
					}
				case 4:
					r.incrs = 0
					_, r.err = c.DoCache(cctx, time.Minute, "GET", key)
				}
				cancel()
				results[i] = r
			}
		})
	}
	moves := 0
	bg.Go(func() {
		for to := away; !stop.Load(); {
			if err := cl.MigrateSlot(ctx, slot, to); err != nil {
				t.Errorf("migrating slot %d to %s: %v", slot, to.Addr, err)
				return
			}
			moves++
			if to == away {
				to = home
			} else {
				to = away
			}
		}
	})
	var kills atomic.Int64
	bg.Go(func() { // the node connections killed from the servers' side now and then
		for !stop.Load() {
			for _, m := range cl.Masters() {
				kills.Add(int64(killNamed(ctx, m, name)))
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	var downs atomic.Int64
	bg.Go(func() {
		prev := counters(c.Stats())
		for !stop.Load() {
			cur := counters(c.Stats())
			for i := range cur {
				if cur[i] < prev[i] {
					downs.Add(1)
				}
			}
			prev = cur
		}
	})
	// The workers end first; then the migrator and the reader are told to.
	wg.Wait()
	stop.Store(true)
	bg.Wait()
	require.NoError(t, ctx.Err())
	require.NoError(t, cl.MigrateSlot(ctx, slot, home))

	answered, unwritten := 0, 0
	for i, r := range results {
		v, err := c.Do(ctx, "GET", r.key)
		require.NoError(t, err)
		n := 0
		if !v.IsNull() {
			s, _ := v.Text()
			n, _ = strconv.Atoi(s)
		}
		what := "call " + strconv.Itoa(i) + " (err " + errString(r.err) + ")"
		assert.LessOrEqual(t, n, r.incrs, "%s ran once at most", what)
		if r.err == nil {
			answered++
			assert.Equal(t, r.incrs, n, "%s: answered, so it ran", what)
		}
		mu.Lock()
		ws := written[i]
		mu.Unlock()
		any := false
		for _, w := range ws {
			any = any || w
		}
		if !any {
			unwritten++
			assert.Zero(t, n, "%s: no event written (%v), yet it ran", what, ws)
		}
	}
	st := c.Stats()
	t.Logf("%d kills, %d moves, %d calls answered, %d with no written event; Moved %d Ask %d, redirect events %d; events of the Client's own %d",
		kills.Load(), moves, answered, unwritten, st.Moved, st.Ask, redirects.Load(), noCall.Load())
	assert.Positive(t, moves)
	assert.Zero(t, badAddr.Load(), "every call's event names a master")
	assert.Equal(t, uint64(redirects.Load()), st.Moved+st.Ask, "Moved and Ask count the Redirect events")
	assert.Zero(t, downs.Load(), "no counter went down")
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return strings.TrimSpace(err.Error())
}

// killNamed kills, from n's side, every connection named name, and returns
// how many.
func killNamed(ctx context.Context, n *redistest.Node, name string) int {
	v, err := n.Do(ctx, "CLIENT", "LIST")
	if err != nil {
		return 0
	}
	list, _ := v.Text()
	killed := 0
	for line := range strings.SplitSeq(list, "\n") {
		if strings.Contains(line, " name="+name+" ") {
			id, _, _ := strings.Cut(strings.TrimPrefix(line, "id="), " ")
			if _, err := n.Do(ctx, "CLIENT", "KILL", "ID", id); err == nil {
				killed++
			}
		}
	}
	return killed
}
