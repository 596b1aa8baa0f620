package cluster

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// movableShapes are argument shapes of every command whose keys move
// (the "movablekeys" flag): for each, the keys must be the ones COMMAND
// GETKEYS names. TestMovableKeysMatchServer fails when the live server has
// a movable-keys command that no shape here covers.
var movableShapes = []struct {
	args []string
	// partial: the server finds keys we deliberately don't (those of
	// "unknown" key specs, such as SORT's STORE); ours must be a subset.
	partial bool
}{
	{args: []string{"ZINTERSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"}},
	{args: []string{"ZUNIONSTORE", "dst", "3", "a", "b", "c", "AGGREGATE", "MAX"}},
	{args: []string{"ZDIFFSTORE", "dst", "2", "a", "b"}},
	{args: []string{"ZDIFF", "2", "a", "b", "WITHSCORES"}},
	{args: []string{"ZUNION", "1", "a"}},
	{args: []string{"ZINTER", "2", "a", "b"}},
	{args: []string{"ZINTERCARD", "2", "a", "b", "LIMIT", "1"}},
	{args: []string{"SINTERCARD", "3", "a", "b", "c"}},
	{args: []string{"GEORADIUS", "src", "0", "0", "1", "km"}},
	{args: []string{"GEORADIUS", "src", "0", "0", "1", "km", "STORE", "dst"}},
	{args: []string{"GEORADIUS", "src", "0", "0", "1", "km", "storedist", "dst"}},
	{args: []string{"GEORADIUS", "src", "0", "0", "1", "km", "WITHDIST", "COUNT", "3", "STORE", "dst"}},
	{args: []string{"GEORADIUSBYMEMBER", "src", "m", "1", "km"}},
	{args: []string{"GEORADIUSBYMEMBER", "src", "m", "1", "km", "STORE", "dst"}},
	{args: []string{"GEORADIUSBYMEMBER", "src", "m", "1", "km", "STOREDIST", "dst"}},
	{args: []string{"EVAL", "return 1", "2", "a", "b", "arg"}},
	{args: []string{"EVAL", "return 1", "0", "arg"}},
	{args: []string{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", "a"}},
	{args: []string{"EVAL_RO", "return 1", "1", "a", "arg"}},
	{args: []string{"EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "2", "a", "b"}},
	{args: []string{"FCALL", "fn", "2", "a", "b", "arg"}},
	{args: []string{"FCALL_RO", "fn", "1", "a"}},
	{args: []string{"SORT", "a"}},
	{args: []string{"SORT", "a", "STORE", "dst"}, partial: true},
	{args: []string{"SORT", "a", "BY", "w_*", "GET", "o_*"}, partial: true},
	{args: []string{"SORT_RO", "a", "ALPHA"}},
	{args: []string{"LMPOP", "2", "a", "b", "LEFT", "COUNT", "2"}},
	{args: []string{"BLMPOP", "0", "2", "a", "b", "RIGHT"}},
	{args: []string{"ZMPOP", "1", "a", "MIN"}},
	{args: []string{"BZMPOP", "1.5", "2", "a", "b", "MAX"}},
	{args: []string{"MIGRATE", "host", "6379", "a", "0", "5000"}},
	{args: []string{"MIGRATE", "host", "6379", "a", "0", "5000", "COPY", "REPLACE"}},
	{args: []string{"MIGRATE", "host", "6379", "", "0", "5000", "KEYS", "a", "b"}},
	{args: []string{"MIGRATE", "host", "6379", "", "0", "5000", "REPLACE", "AUTH", "pw", "KEYS", "a"}},
	// A host called "keys": argument 1 is never the KEYS keyword.
	{args: []string{"MIGRATE", "keys", "6379", "a", "0", "5000"}},
	{args: []string{"MIGRATE", "KEYS", "6379", "", "0", "5000", "KEYS", "a", "b"}},
	{args: []string{"XREAD", "STREAMS", "a", "0"}},
	{args: []string{"XREAD", "COUNT", "1", "BLOCK", "5", "STREAMS", "a", "b", "0", "0"}},
	{args: []string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", ">"}},
	{args: []string{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "NOACK", "STREAMS", "a", "b", ">", ">"}},
}

// movableCommands returns the lower-cased names of the live server's
// commands and subcommands that have the movablekeys flag.
func movableCommands(t *testing.T, ctx context.Context, admin *redistest.Node) []string {
	t.Helper()
	v, err := admin.Do(ctx, "COMMAND")
	require.NoError(t, err)
	var names []string
	var walk func(entries []resp.Value)
	walk = func(entries []resp.Value) {
		for _, e := range entries {
			fields := e.Elems()
			require.GreaterOrEqual(t, len(fields), 6)
			name, err := fields[0].Text()
			require.NoError(t, err)
			for _, f := range fields[2].Elems() {
				if flag, _ := f.Text(); strings.EqualFold(flag, "movablekeys") {
					names = append(names, strings.ToLower(name))
				}
			}
			if len(fields) > 9 {
				walk(fields[9].Elems())
			}
		}
	}
	walk(v.Elems())
	return names
}

// TestMovableKeysMatchServer checks the keys found for every movable-keys
// command shape against COMMAND GETKEYS on the live server, and that every
// movable-keys command the server has is covered.
func TestMovableKeysMatchServer(t *testing.T) {
	table := serverCommands(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := redistest.Cluster().Masters()[0]

	covered := make(map[string]bool)
	for _, tc := range movableShapes {
		covered[strings.ToLower(tc.args[0])] = true
	}
	movable := movableCommands(t, ctx, admin)
	require.NotEmpty(t, movable)
	for _, name := range movable {
		assert.True(t, covered[name], "the server's movable-keys command %s has no shape in movableShapes", name)
	}

	for _, tc := range movableShapes {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			info, ok := table.lookup(tc.args[0])
			require.True(t, ok)
			var got []string
			info.walkKeys(tc.args, &slotAcc{slot: noSlot, found: &got})

			v, err := admin.Do(ctx, append([]string{"COMMAND", "GETKEYS"}, tc.args...)...)
			var want []string
			if err != nil {
				require.ErrorContains(t, err, "no key arguments")
			}
			for _, k := range v.Elems() {
				key, err := k.Text()
				require.NoError(t, err)
				want = append(want, key)
			}
			slices.Sort(got)
			slices.Sort(want)
			if tc.partial {
				for _, k := range got {
					assert.Contains(t, want, k)
				}
				return
			}
			assert.Equal(t, want, got)
		})
	}
}
