package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// serverCommands reads the command table from a harness node (over RESP2,
// so this also covers the flat-array shape of key specs).
func serverCommands(t *testing.T) *commandTable {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := redistest.Cluster().Masters()[0].Do(ctx, "COMMAND")
	require.NoError(t, err)
	commands, err := parseCommands(v)
	require.NoError(t, err)
	require.Greater(t, len(commands), 100)
	return newCommandTable(commands)
}

// keyCases are commands of every key-finding family Redis 7.0 uses.
var keyCases = []struct {
	args []string
	// incomplete: the server finds keys we deliberately don't (keys named
	// by "unknown" key specs, such as SORT's STORE); we must find a subset.
	incomplete bool
}{
	{args: []string{"GET", "k1"}},
	{args: []string{"get", "k1"}},
	{args: []string{"Set", "k2", "v"}},
	{args: []string{"SET", "k2", "v", "EX", "10"}},
	{args: []string{"MSET", "{t}a", "1", "{t}b", "2"}},
	{args: []string{"MSET", "a", "1", "b", "2"}},
	{args: []string{"MGET", "{u}1", "{u}2", "{u}3"}},
	{args: []string{"MGET", "x1", "x2", "x3"}},
	{args: []string{"DEL", "{d}1", "{d}2"}},
	{args: []string{"DEL", "d1", "d2"}},
	{args: []string{"EVAL", "return 1", "2", "{e}a", "{e}b", "arg"}},
	{args: []string{"EVAL", "return 1", "2", "ea", "eb", "arg"}},
	{args: []string{"EVAL", "return 1", "0", "notakey"}},
	{args: []string{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", "key"}},
	{args: []string{"EVAL_RO", "return 1", "1", "ro"}},
	{args: []string{"FCALL", "fn", "2", "{f}1", "{f}2", "x"}},
	{args: []string{"XREAD", "COUNT", "1", "STREAMS", "{s}1", "{s}2", "0", "0"}},
	{args: []string{"XREAD", "BLOCK", "10", "STREAMS", "s1", "s2", "0", "0"}},
	{args: []string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{g}s", "{g}t", ">", ">"}},
	{args: []string{"ZUNIONSTORE", "{z}dst", "2", "{z}a", "{z}b", "WEIGHTS", "1", "2"}},
	{args: []string{"ZUNIONSTORE", "zdst", "2", "za", "zb"}},
	{args: []string{"LMOVE", "{l}a", "{l}b", "LEFT", "RIGHT"}},
	{args: []string{"LMOVE", "la", "lb", "LEFT", "RIGHT"}},
	{args: []string{"BLMPOP", "0", "2", "{b}1", "{b}2", "LEFT"}},
	{args: []string{"MIGRATE", "127.0.0.1", "1", "mkey", "0", "5000"}},
	{args: []string{"MIGRATE", "127.0.0.1", "1", "", "0", "5000", "KEYS", "{m}1", "{m}2"}},
	{args: []string{"OBJECT", "ENCODING", "okey"}},
	{args: []string{"object", "freq", "okey"}},
	{args: []string{"MEMORY", "USAGE", "mu"}},
	{args: []string{"XINFO", "STREAM", "xs"}},
	{args: []string{"GEORADIUS", "{geo}a", "0", "0", "1", "km", "STORE", "{geo}b"}},
	{args: []string{"GEORADIUS", "geoa", "0", "0", "1", "km", "STORE", "geob"}},
	{args: []string{"SORT", "{so}a", "STORE", "{so}b"}, incomplete: true},
	{args: []string{"PING", "hello"}},
	{args: []string{"ECHO", "hello"}},
	{args: []string{"CLUSTER", "INFO"}},
	{args: []string{"MEMORY", "STATS"}},
}

// TestKeySlotMatchesServer checks, for every case, the slot our key finding
// computes against the keys COMMAND GETKEYS returns and the slots CLUSTER
// KEYSLOT gives them.
func TestKeySlotMatchesServer(t *testing.T) {
	table := serverCommands(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := redistest.Cluster().Masters()[0]
	for _, tc := range keyCases {
		t.Run(tc.args[0], func(t *testing.T) {
			info, ok := table.lookup(tc.args[0])
			require.True(t, ok, "%s not in the command table", tc.args[0])
			gotSlot, gotCross := info.keySlot(tc.args)

			wantSlot, wantCross := noSlot, false
			v, err := admin.Do(ctx, append([]string{"COMMAND", "GETKEYS"}, tc.args...)...)
			if err != nil {
				var re *resp.Error
				require.ErrorAs(t, err, &re, "%v", tc.args)
				// Commands without keys: "The command has no key arguments".
				require.Contains(t, re.Message, "no key arguments", "%v", tc.args)
			}
			for _, k := range v.Elems() {
				key, err := k.Text()
				require.NoError(t, err)
				sv, err := admin.Do(ctx, "CLUSTER", "KEYSLOT", key)
				require.NoError(t, err)
				s64, err := sv.Int()
				require.NoError(t, err)
				s := int(s64)
				if tc.incomplete && s != gotSlot {
					continue
				}
				switch {
				case wantSlot == noSlot:
					wantSlot = s
				case wantSlot != s:
					wantCross = true
				}
			}
			assert.Equal(t, wantCross, gotCross, "%v: cross-slot", tc.args)
			if !wantCross {
				assert.Equal(t, wantSlot, gotSlot, "%v: slot", tc.args)
			}
		})
	}
}

func TestKeySlotMalformedArgs(t *testing.T) {
	table := serverCommands(t)
	for _, args := range [][]string{
		{"EVAL"},
		{"EVAL", "return 1"},
		{"EVAL", "return 1", "notanumber", "k"},
		{"EVAL", "return 1", "-1", "k"},
		{"EVAL", "return 1", "999999999999", "k"},
		{"EVAL", "return 1", "5", "k"}, // fewer keys than it says
		{"XREAD", "STREAMS"},
		{"XREAD", "COUNT", "1"},
		{"MGET"},
		{"OBJECT"},
		{"OBJECT", "NOSUCH", "k"},
		{"MIGRATE", "h", "p", "", "0", "1", "KEYS"},
	} {
		info, ok := table.lookup(args[0])
		require.True(t, ok)
		assert.NotPanics(t, func() { info.keySlot(args) }, "%v", args)
	}
	info, _ := table.lookup("EVAL")
	slot, cross := info.keySlot([]string{"EVAL", "s", "5", "k"})
	assert.Equal(t, slotOfKey(t, "k"), slot, "the keys present are still found")
	assert.False(t, cross)
}

func slotOfKey(t *testing.T, key string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := redistest.Cluster().Masters()[0].Do(ctx, "CLUSTER", "KEYSLOT", key)
	require.NoError(t, err)
	n, err := v.Int()
	require.NoError(t, err)
	return int(n)
}

func TestLookupIgnoresCase(t *testing.T) {
	table := serverCommands(t)
	for _, name := range []string{"get", "GET", "Get", "gEt"} {
		info, ok := table.lookup(name)
		require.True(t, ok, name)
		assert.Equal(t, "get", info.name)
		assert.True(t, info.readonly())
	}
	_, ok := table.lookup("NOSUCHCOMMAND")
	assert.False(t, ok)
	long := make([]byte, 200)
	for i := range long {
		long[i] = 'A'
	}
	_, ok = table.lookup(string(long))
	assert.False(t, ok)
	info, ok := table.lookup("BLPOP")
	require.True(t, ok)
	assert.True(t, info.blocking())
}

func TestKeySlotDoesNotAllocate(t *testing.T) {
	table := serverCommands(t)
	cmds := [][]string{
		{"GET", "key:1"},
		{"get", "key:1"},
		{"MSET", "{t}a", "1", "{t}b", "2"},
		{"EVAL", "return 1", "2", "{e}a", "{e}b"},
		{"XREAD", "STREAMS", "{s}1", "{s}2", "0", "0"},
		{"OBJECT", "ENCODING", "k"},
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, args := range cmds {
			info, _ := table.lookup(args[0])
			info.keySlot(args)
		}
	})
	assert.Zero(t, allocs)
}

func TestLearnIsBounded(t *testing.T) {
	table := newCommandTable(map[string]*commandInfo{})
	for i := range maxLearnedCommands + 10 {
		table.learn("x"+string(rune('a'+i%26))+string(rune('a'+i/26)), nil)
	}
	assert.Len(t, *table.commands.Load(), maxLearnedCommands)
}
