package sentinel

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadReplicas: with ReadReplicas, GETs are served by the replicas the
// sentinels report healthy, while writes and blocking commands go to the
// master.
func TestReadReplicas(t *testing.T) {
	s := redistest.Sentinel()
	ctx := testContext(t)
	require.NoError(t, s.Reset(ctx)) // both replicas online, as the sentinels see them
	c := newTestClient(t, &Options{MasterName: s.MasterName, Addrs: s.SentinelAddrs(), ReadReplicas: true})
	master, err := s.Master(ctx)
	require.NoError(t, err)
	replicas, err := s.Replicas(ctx)
	require.NoError(t, err)

	_, err = c.Do(ctx, "SET", "replicated", "v")
	require.NoError(t, err)
	_, err = master.Do(ctx, "WAIT", "2", "5000")
	require.NoError(t, err)
	// Polled: the first refresh is not signalled.
	require.Eventually(t, func() bool { return c.reads.routes([]string{"GET", "replicated"}) }, 30*time.Second, 10*time.Millisecond, "no replica to read from")

	before := map[*redistest.Node]int{}
	for _, n := range s.Nodes {
		before[n] = calls(t, ctx, n, "get")
	}
	masterBLPOP := calls(t, ctx, master, "blpop")
	for range 50 {
		v, err := c.Do(ctx, "GET", "replicated")
		require.NoError(t, err)
		got, _ := v.Text()
		require.Equal(t, "v", got)
	}
	vs, err := c.DoMulti(ctx, []string{"GET", "replicated"}, []string{"get", "replicated"})
	require.NoError(t, err)
	require.Len(t, vs, 2)
	v, err := c.DoCmd(ctx, conn.Cmd("GET", "replicated"))
	require.NoError(t, err)
	got, _ := v.Text()
	require.Equal(t, "v", got)
	vs, err = c.DoMultiCmd(ctx, conn.Cmd("GET", "replicated"), conn.Cmd("OBJECT", "ENCODING", "replicated"))
	require.NoError(t, err)
	require.Len(t, vs, 2)
	_, err = c.Do(ctx, "BLPOP", "replica-list", "0.01")
	require.NoError(t, err)
	_, err = c.Do(ctx, "SET", "replicated", "w")
	require.NoError(t, err)

	assert.Equal(t, before[master], calls(t, ctx, master, "get"), "a GET went to the master")
	served := 0
	for _, r := range replicas {
		served += calls(t, ctx, r, "get") - before[r]
	}
	assert.Equal(t, 54, served)
	assert.Equal(t, masterBLPOP+1, calls(t, ctx, master, "blpop"), "the blocking command went to the master")
}

// calls is how many times n ran cmd, from INFO commandstats.
func calls(t testing.TB, ctx context.Context, n *redistest.Node, cmd string) int {
	t.Helper()
	info, err := n.Info(ctx, "commandstats")
	require.NoError(t, err)
	stat := info["cmdstat_"+cmd]
	if stat == "" {
		return 0
	}
	field, _, _ := strings.Cut(strings.TrimPrefix(stat, "calls="), ",")
	got, err := strconv.Atoi(field)
	require.NoError(t, err, "cmdstat_%s %q", cmd, stat)
	return got
}

// TestCommandTable: which commands a replica may serve, from a COMMAND
// reply's flags, subcommands included.
func TestCommandTable(t *testing.T) {
	entry := func(name string, flags []string, subs ...resp.Value) resp.Value {
		fs := make([]resp.Value, len(flags))
		for i, f := range flags {
			fs[i] = resp.NewSimpleString(f)
		}
		e := []resp.Value{resp.NewBulkString(name), resp.NewInt(2), resp.NewArray(fs...),
			resp.NewInt(1), resp.NewInt(1), resp.NewInt(1), resp.NewArray(), resp.NewArray(), resp.NewArray(),
			resp.NewArray(subs...)}
		return resp.NewArray(e...)
	}
	table := parseCommands(resp.NewArray(
		entry("get", []string{"readonly", "fast"}),
		entry("set", []string{"write"}),
		entry("blmove", []string{"write", "blocking"}),
		entry("xread", []string{"readonly", "blocking"}),
		entry("object", nil, entry("object|encoding", []string{"readonly"}), entry("object|freq", []string{"readonly"})),
		resp.NewArray(resp.NewBulkString("short")),
	))
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"GET", "k"}, true},
		{[]string{"get", "k"}, true},
		{[]string{"Get", "k"}, true},
		{[]string{"SET", "k", "v"}, false},
		{[]string{"XREAD", "STREAMS", "s", "0"}, false},
		{[]string{"OBJECT", "ENCODING", "k"}, true},
		{[]string{"OBJECT"}, false},
		{[]string{"OBJECT", "HELP"}, false},
		{[]string{"NOSUCH"}, false},
		{[]string{"short"}, false},
		{nil, false},
	} {
		assert.Equal(t, tc.want, table.readOnly(tc.args), "%q", tc.args)
		if len(tc.args) > 0 {
			cmd := conn.Cmd(tc.args[0], tc.args[1:]...)
			assert.Equal(t, tc.want, table.readOnlyCmd(&cmd), "Command %q", tc.args)
		}
	}
}
