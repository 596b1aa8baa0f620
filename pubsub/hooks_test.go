package pubsub

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/slots"
)

// hookRecorder keeps a Subscriber's hook events and log records.
type hookRecorder struct {
	mu       sync.Mutex
	resubs   []ResubscribeEvent
	gaps     []Gap
	logs     []string
	logLevel slog.Level
}

func (r *hookRecorder) hooks() *Hooks {
	return &Hooks{
		Resubscribe: func(e ResubscribeEvent) {
			r.mu.Lock()
			r.resubs = append(r.resubs, e)
			r.mu.Unlock()
		},
		Gap: func(g Gap) {
			r.mu.Lock()
			r.gaps = append(r.gaps, g)
			r.mu.Unlock()
		},
	}
}

func (r *hookRecorder) snapshot() ([]ResubscribeEvent, []Gap, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ResubscribeEvent(nil), r.resubs...), append([]Gap(nil), r.gaps...), append([]string(nil), r.logs...)
}

func (r *hookRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.logLevel }

func (r *hookRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	r.logs = append(r.logs, b.String())
	r.mu.Unlock()
	return nil
}

func (r *hookRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *hookRecorder) WithGroup(string) slog.Handler      { return r }

// newObservedSubscriber is a Subscriber on the standalone server reporting
// to hooks and to a logger at Info that rec keeps.
func newObservedSubscriber(t *testing.T, name string, rec *hookRecorder, hooks *Hooks) *Subscriber {
	t.Helper()
	rec.logLevel = slog.LevelInfo
	s, err := NewWithOptions(testContext(t), redistest.Server().Addr,
		&conn.Options{ClientName: name, Logger: slog.New(rec)}, &Options{Hooks: hooks})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestResubscribeAndGapHooks kills the Subscriber's connections: each
// link's subscriptions restored on a new connection are reported with
// their counts, the gap with its names, and the log says the link was lost
// (Warn), the subscriptions restored (Info) and messages maybe missed
// (Warn), naming no channel.
func TestResubscribeAndGapHooks(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("hooks")
	node := redistest.Server()
	var rec hookRecorder
	s := newObservedSubscriber(t, name, &rec, rec.hooks())
	pub := publisher(t, node.Addr)
	require.NoError(t, s.Subscribe(ctx, name+":a", name+":b"))
	require.NoError(t, s.PSubscribe(ctx, name+":p*"))
	require.NoError(t, s.SSubscribe(ctx, name+":s1", name+":s2"))
	resubs, gaps, _ := rec.snapshot()
	require.Empty(t, resubs, "nothing restored before a loss")
	require.Empty(t, gaps)

	killed := time.Now()
	_, err := node.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub")
	require.NoError(t, err)
	publishUntil(t, s, pub, "PUBLISH", name+":a", "a")
	publishUntil(t, s, pub, "SPUBLISH", name+":s1", "s1")
	all := []string{name + ":a", name + ":b", name + ":p*", name + ":s1", name + ":s2"}
	awaitGaps(t, s, all...)

	var sum ResubscribeEvent
	eventually(t, "every subscription's restoring is reported", func() bool {
		resubs, _, _ := rec.snapshot()
		sum = ResubscribeEvent{}
		for _, e := range resubs {
			sum.Channels += e.Channels
			sum.Patterns += e.Patterns
			sum.ShardChannels += e.ShardChannels
		}
		return sum.Channels == 2 && sum.Patterns == 1 && sum.ShardChannels == 2
	})
	resubs, gaps, logs := rec.snapshot()
	for _, e := range resubs {
		assert.Equal(t, node.Addr, e.Addr)
		assert.NoError(t, e.Err)
		assert.Positive(t, e.Duration)
		assert.Less(t, e.Duration, time.Since(killed))
	}
	require.NotEmpty(t, gaps)
	var named []string
	for _, g := range gaps {
		named = append(append(append(named, g.Channels...), g.Patterns...), g.ShardChannels...)
		assert.Error(t, g.Cause)
		assert.False(t, g.To.Before(g.From))
	}
	assert.ElementsMatch(t, all, named, "the Gap hooks name every subscription once")

	count := func(prefix string) int {
		n := 0
		for _, l := range logs {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}
	assert.Positive(t, count("WARN pubsub: connection lost"), "%q", logs)
	assert.Positive(t, count("INFO pubsub: subscriptions restored"), "%q", logs)
	assert.Positive(t, count("WARN pubsub: messages may have been missed"), "%q", logs)
	for _, l := range logs {
		assert.NotContains(t, l, name+":", "no channel name is logged above Debug")
	}
	t.Logf("resubscribes %+v; %d gap events; log %q", resubs, len(gaps), logs)
}

// TestPanickingPubsubHooks: hooks that panic lose nothing: after the
// connections are killed, every subscription comes back, messages arrive,
// the Gap still reaches Messages(), and each hook's panic is logged once,
// at Error.
func TestPanickingPubsubHooks(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("panics")
	node := redistest.Server()
	var rec hookRecorder
	s := newObservedSubscriber(t, name, &rec, &Hooks{
		Resubscribe: func(ResubscribeEvent) { panic("resubscribe hook") },
		Gap:         func(Gap) { panic("gap hook") },
	})
	pub := publisher(t, node.Addr)
	require.NoError(t, s.Subscribe(ctx, name+":a"))
	require.NoError(t, s.SSubscribe(ctx, name+":s"))
	for round := range 2 {
		_, err := node.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub")
		require.NoError(t, err)
		tag := fmt.Sprint(round)
		assert.Equal(t, KindMessage, publishUntil(t, s, pub, "PUBLISH", name+":a", "a"+tag).Kind)
		assert.Equal(t, KindSMessage, publishUntil(t, s, pub, "SPUBLISH", name+":s", "s"+tag).Kind)
		awaitGaps(t, s, name+":a", name+":s")
	}
	panics := func(hook string) int {
		_, _, logs := rec.snapshot()
		n := 0
		for _, l := range logs {
			if strings.HasPrefix(l, "ERROR pubsub: a hook panicked") && strings.Contains(l, "hook="+hook+" ") {
				n++
			}
		}
		return n
	}
	eventually(t, "both panics are logged", func() bool { return panics("Resubscribe") == 1 && panics("Gap") == 1 })
	assert.EqualValues(t, 1, numsub(t, node, "NUMSUB", name+":a"))
}

// TestPubsubHooksNeverShowThePassword: a Subscriber authenticated as an
// ACL user loses its connections, and once its redial is refused (the user
// is deleted) it fails to restore them, then does once the user is back:
// no event, printed with %+v, and no log record holds the password.
func TestPubsubHooksNeverShowThePassword(t *testing.T) {
	const password = "pubsub-S3cret-pw-5521"
	ctx := testContext(t)
	node := redistest.Server()
	user := uniqueName("hooks-user")
	require.NoError(t, node.AddUser(ctx, user, password))
	t.Cleanup(func() { _, _ = node.Do(context.Background(), "ACL", "DELUSER", user) })
	var rec hookRecorder
	rec.logLevel = slog.LevelDebug
	name := uniqueName("acl")
	s, err := NewWithOptions(ctx, node.Addr, &conn.Options{ClientName: name, Username: user, Password: password,
		Logger: slog.New(&rec)}, &Options{Hooks: rec.hooks()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	pub := publisher(t, node.Addr)
	require.NoError(t, s.Subscribe(ctx, name+":a"))

	_, err = node.Do(ctx, "ACL", "DELUSER", user) // closes the user's connections
	require.NoError(t, err)
	eventually(t, "a restore fails", func() bool {
		resubs, _, _ := rec.snapshot()
		for _, e := range resubs {
			if e.Err != nil {
				return true
			}
		}
		return false
	})
	require.NoError(t, node.AddUser(ctx, user, password))
	publishUntil(t, s, pub, "PUBLISH", name+":a", "back")
	awaitGaps(t, s, name+":a")

	resubs, gaps, logs := rec.snapshot()
	require.NotEmpty(t, gaps)
	texts := logs
	for _, e := range resubs {
		texts = append(texts, fmt.Sprintf("%+v", e))
	}
	for _, g := range gaps {
		texts = append(texts, fmt.Sprintf("%+v", g))
	}
	for _, text := range texts {
		require.NotContains(t, text, password, "an event or log record shows the password")
		require.NotContains(t, text, password[7:], "an event or log record shows part of the password")
	}
	t.Logf("checked %d events and log records, e.g. %q", len(texts), texts[0])
}

// TestClusterResubscribeHooks kills a cluster Subscriber's connections on
// every node: each master's shard channels are reported restored on that
// master, and the channel on its node, the counts adding up to what was
// subscribed.
func TestClusterResubscribeHooks(t *testing.T) {
	ctx := testContext(t)
	name := uniqueName("chooks")
	var rec hookRecorder
	cl := newClusterClient(t, name+"-routing")
	s, err := NewClusterWithOptions(ctx, cl, &Options{Hooks: rec.hooks()})
	require.NoError(t, err)
	s.opts.ClientName = name // before the first dial
	t.Cleanup(func() { s.Close() })
	pub := newClusterClient(t, name+"-pub")
	chans := channelsOnEveryMaster(t, name+"-", 12)
	require.NoError(t, s.SSubscribe(ctx, chans...))
	require.NoError(t, s.Subscribe(ctx, name+":ch"))
	want := make(map[string]int) // shard channels per master
	for _, ch := range chans {
		want[mustMasterOf(t, int(slots.Slot(ch))).Addr]++
	}

	for _, node := range redistest.Cluster().Nodes() {
		_, err := node.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub")
		require.NoError(t, err)
	}
	for _, ch := range chans {
		publishUntilCluster(t, s, pub, "SPUBLISH", ch, "back on "+ch)
	}
	publishUntilCluster(t, s, pub, "PUBLISH", name+":ch", "channel back")
	eventually(t, "every restoring is reported", func() bool {
		resubs, _, _ := rec.snapshot()
		shard, channels := 0, 0
		for _, e := range resubs {
			shard += e.ShardChannels
			channels += e.Channels
		}
		return shard == len(chans) && channels == 1
	})
	resubs, _, _ := rec.snapshot()
	got := make(map[string]int)
	for _, e := range resubs {
		assert.NoError(t, e.Err)
		assert.NotEmpty(t, e.Addr)
		if e.ShardChannels > 0 {
			got[e.Addr] += e.ShardChannels
		}
	}
	assert.Equal(t, want, got, "each master's shard channels restored on it")
	t.Logf("resubscribes: %+v", resubs)
}
