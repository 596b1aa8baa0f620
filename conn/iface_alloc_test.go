package conn

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// hideType returns d as the interface, out of the compiler's sight, so that
// calls through it are real interface calls and not devirtualized.
//
//go:noinline
func hideType[T any](d T) T { return d }

// TestInterfaceAllocations guards the promise: calling through Doer
// and Universal costs no more allocations than the concrete type, GET 1
// (the value), SET 0, SET of a []byte value 0, with a context that never
// ends and with one that can.
func TestInterfaceAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	cl, _ := newTestClient(t, redistest.Server().Addr)
	cn := dialTest(t, nil)
	value := []byte(benchValue)
	for _, target := range []struct {
		name string
		d    Doer
	}{{"Client as Universal", hideType[Universal](cl)}, {"Conn as Doer", hideType[Doer](cn)}} {
		for _, tc := range []struct {
			name string
			ctx  context.Context
		}{{"background", context.Background()}, {"deadline", testContext(t)}} {
			_, err := target.d.DoCmd(tc.ctx, Cmd("SET", "conn:iface:allocs", benchValue))
			require.NoError(t, err)
			get := testing.AllocsPerRun(200, func() {
				if _, err := target.d.DoCmd(tc.ctx, Cmd("GET", "conn:iface:allocs")); err != nil {
					t.Fatal(err)
				}
			})
			set := testing.AllocsPerRun(200, func() {
				if _, err := target.d.DoCmd(tc.ctx, Cmd("SET", "conn:iface:allocs", benchValue)); err != nil {
					t.Fatal(err)
				}
			})
			setBytes := testing.AllocsPerRun(200, func() {
				if _, err := target.d.DoCmd(tc.ctx, Cmd("SET", "conn:iface:allocs").Bytes(value)); err != nil {
					t.Fatal(err)
				}
			})
			setTyped := testing.AllocsPerRun(200, func() {
				if _, err := target.d.DoCmd(tc.ctx, Cmd("SET", "conn:iface:allocs").Bytes(value).Arg("EX").Int(60)); err != nil {
					t.Fatal(err)
				}
			})
			assert.LessOrEqual(t, get, 1.0, "%s: GET with a %s context", target.name, tc.name)
			assert.Zero(t, set, "%s: SET with a %s context", target.name, tc.name)
			assert.Zero(t, setBytes, "%s: SET of a []byte with a %s context", target.name, tc.name)
			assert.Zero(t, setTyped, "%s: SET of a []byte EX int with a %s context", target.name, tc.name)
		}
	}
}

// TestInterfaceDoMultiAllocations: a batch through the interface costs what
// it costs on the concrete type (the reply slice and the values) when the
// caller reuses its slice of commands.
func TestInterfaceDoMultiAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	cl, ctx := newTestClient(t, redistest.Server().Addr)
	u := hideType[Universal](cl)
	cmds := []Command{
		Cmd("SET", "conn:iface:multi").Bytes([]byte(benchValue)),
		Cmd("EXPIRE", "conn:iface:multi").Int(60),
	}
	concrete := testing.AllocsPerRun(100, func() {
		if _, err := cl.DoMultiCmd(ctx, cmds...); err != nil {
			t.Fatal(err)
		}
	})
	through := testing.AllocsPerRun(100, func() {
		if _, err := u.DoMultiCmd(ctx, cmds...); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, concrete, through)
	assert.LessOrEqual(t, through, 1.0, "the reply slice; OK and an integer allocate nothing")
}
