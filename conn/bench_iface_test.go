package conn

import (
	"context"
	"runtime"
	"testing"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// variadicDoer is what an interface over the variadic Do would be: the
// shape the issue says costs one more allocation per call.
type variadicDoer interface {
	Do(ctx context.Context, args ...string) (resp.Value, error)
}

// BenchmarkInterface compares a Client called as itself with the same
// Client called through Universal, for GET, SET, and SET of a []byte value.
// Compare with benchstat -col /via.
func BenchmarkInterface(b *testing.B) {
	ctx := context.Background()
	cl, err := NewClient(ctx, redistest.Server().Addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Do(ctx, "SET", "bench:iface", benchValue); err != nil {
		b.Fatal(err)
	}
	u := hideType[Universal](cl)
	v := hideType[variadicDoer](cl)
	value := []byte(benchValue)
	ops := []struct {
		name string
		via  map[string]func() error
	}{
		{"Get", map[string]func() error{
			"concrete":           func() error { _, err := cl.Do(ctx, "GET", "bench:iface"); return err },
			"concrete-cmd":       func() error { _, err := cl.DoCmd(ctx, Cmd("GET", "bench:iface")); return err },
			"interface":          func() error { _, err := u.DoCmd(ctx, Cmd("GET", "bench:iface")); return err },
			"variadic-interface": func() error { _, err := v.Do(ctx, "GET", "bench:iface"); return err },
		}},
		{"Set", map[string]func() error{
			"concrete":           func() error { _, err := cl.Do(ctx, "SET", "bench:iface", benchValue); return err },
			"concrete-cmd":       func() error { _, err := cl.DoCmd(ctx, Cmd("SET", "bench:iface", benchValue)); return err },
			"interface":          func() error { _, err := u.DoCmd(ctx, Cmd("SET", "bench:iface", benchValue)); return err },
			"variadic-interface": func() error { _, err := v.Do(ctx, "SET", "bench:iface", benchValue); return err },
		}},
		{"SetBytes", map[string]func() error{
			"concrete":  func() error { _, err := cl.DoCmd(ctx, Cmd("SET", "bench:iface").Bytes(value)); return err },
			"interface": func() error { _, err := u.DoCmd(ctx, Cmd("SET", "bench:iface").Bytes(value)); return err },
		}},
	}
	for _, op := range ops {
		for _, via := range []string{"concrete", "concrete-cmd", "interface", "variadic-interface"} {
			call, ok := op.via[via]
			if !ok {
				continue
			}
			b.Run(op.name+"/via="+via+"/serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := call(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(op.name+"/via="+via+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(128 / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := call(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
