package conn

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
)

// noopHooks returns Hooks with every field set to a function that does
// nothing, Statement off: what a hooked call costs beyond its hook's work.
func noopHooks() *Hooks {
	return &Hooks{
		Command:  func(context.Context, CommandEvent) {},
		Pipeline: func(context.Context, PipelineEvent) {},
		Dial:     func(context.Context, DialEvent) {},
		State:    func(StateEvent) {},
		Redial:   func(RedialEvent) {},
		Cache:    func(CacheEvent) {},
	}
}

// BenchmarkHooks: GET through a concrete *Client, serial and from 128
// goroutines, with no hooks and with a no-op set.
func BenchmarkHooks(b *testing.B) {
	const key = "bench:hooks"
	ctx := context.Background()
	if _, err := redistest.Server().Do(ctx, "SET", key, benchValue); err != nil {
		b.Fatal(err)
	}
	for _, set := range []struct {
		name  string
		hooks *Hooks
	}{{"none", nil}, {"noop", noopHooks()}} {
		b.Run(set.name, func(b *testing.B) {
			client := func(b *testing.B) *Client {
				c, err := NewClient(ctx, redistest.Server().Addr, &Options{Hooks: set.hooks})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
				return c
			}
			b.Run("serial", func(b *testing.B) {
				c := client(b)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Do(ctx, "GET", key); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				c := client(b)
				b.ReportAllocs()
				b.SetParallelism(128 / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := c.Do(ctx, "GET", key); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// TestHooksAllocations: a no-op hook set (Statement off) adds no
// allocation: a GET through a Client costs 1 (its value) with it as
// without, through Do and DoCmd, and a pipeline what it costs without.
func TestHooksAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	const key = "conn:hooks:allocs"
	ctx := testContext(t)
	_, err := redistest.Server().Do(ctx, "SET", key, benchValue)
	require.NoError(t, err)
	allocs := func(hooks *Hooks) (do, doCmd, multi float64) {
		c, err := NewClient(ctx, redistest.Server().Addr, &Options{Hooks: hooks})
		require.NoError(t, err)
		defer c.Close()
		do = testing.AllocsPerRun(200, func() {
			if _, err := c.Do(ctx, "GET", key); err != nil {
				t.Fatal(err)
			}
		})
		doCmd = testing.AllocsPerRun(200, func() {
			if _, err := c.DoCmd(ctx, Cmd("GET", key)); err != nil {
				t.Fatal(err)
			}
		})
		multi = testing.AllocsPerRun(200, func() {
			if _, err := c.DoMulti(ctx, []string{"GET", key}, []string{"GET", key}); err != nil {
				t.Fatal(err)
			}
		})
		return do, doCmd, multi
	}
	do, doCmd, multi := allocs(nil)
	hookedDo, hookedDoCmd, hookedMulti := allocs(noopHooks())
	t.Logf("allocs per call without hooks: Do %v, DoCmd %v, DoMulti %v; with no-op hooks: %v, %v, %v",
		do, doCmd, multi, hookedDo, hookedDoCmd, hookedMulti)
	assert.LessOrEqual(t, hookedDo, 1.0)
	assert.LessOrEqual(t, hookedDo, do)
	assert.LessOrEqual(t, hookedDoCmd, 1.0)
	assert.LessOrEqual(t, hookedDoCmd, doCmd)
	assert.LessOrEqual(t, hookedMulti, multi)
}

// BenchmarkHookFire is what a no-op hook set adds to each call, without the
// network's noise: "event" is the two clock reads, the event and the
// guarded call; "call" the guarded call alone, so the difference is the
// clock's cost on the machine.
func BenchmarkHookFire(b *testing.B) {
	c := &Conn{addr: "127.0.0.1:6379", hooks: noopHooks()}
	ctx := context.Background()
	b.Run("event", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			e := CommandEvent{Name: "GET", Addr: c.addr, DB: c.db, Start: start, Duration: time.Since(start), Written: true}
			c.fireCommand(ctx, &e)
		}
	})
	b.Run("call", func(b *testing.B) {
		e := CommandEvent{Name: "GET", Addr: c.addr, Written: true}
		b.ReportAllocs()
		for b.Loop() {
			c.fireCommand(ctx, &e)
		}
	})
}
