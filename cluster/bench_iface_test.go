package cluster

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/respwire/respwire/conn"
)

// BenchmarkInterface compares the cluster Client called as itself (Do, or
// DoCmd) with the same Client called through conn.Universal, for GET, SET
// and SET of a []byte value over keys in all slots. Compare with benchstat
// -col /via.
func BenchmarkInterface(b *testing.B) {
	c := newTestClient(b, nil)
	keys := benchKeys(b, c)
	ctx := context.Background()
	u := hideType[conn.Universal](c)
	value := []byte("0123456789abcdef")
	type call func(key string) error
	ops := []struct {
		name string
		via  []string
		fns  []call
	}{
		{"Get", []string{"concrete", "concrete-cmd", "interface"}, []call{
			func(k string) error { _, err := c.Do(ctx, "GET", k); return err },
			func(k string) error { _, err := c.DoCmd(ctx, conn.Cmd("GET", k)); return err },
			func(k string) error { _, err := u.DoCmd(ctx, conn.Cmd("GET", k)); return err },
		}},
		{"Set", []string{"concrete", "concrete-cmd", "interface"}, []call{
			func(k string) error { _, err := c.Do(ctx, "SET", k, "0123456789abcdef"); return err },
			func(k string) error { _, err := c.DoCmd(ctx, conn.Cmd("SET", k, "0123456789abcdef")); return err },
			func(k string) error { _, err := u.DoCmd(ctx, conn.Cmd("SET", k, "0123456789abcdef")); return err },
		}},
		{"SetBytes", []string{"concrete", "interface"}, []call{
			func(k string) error { _, err := c.DoCmd(ctx, conn.Cmd("SET", k).Bytes(value)); return err },
			func(k string) error { _, err := u.DoCmd(ctx, conn.Cmd("SET", k).Bytes(value)); return err },
		}},
	}
	for _, op := range ops {
		for i, via := range op.via {
			fn := op.fns[i]
			b.Run(op.name+"/via="+via+"/serial", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := fn(keys[i%len(keys)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run(op.name+"/via="+via+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(64) // 128 goroutines on 2 CPUs
				var next atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					i := int(next.Add(1) * 7919)
					for pb.Next() {
						if err := fn(keys[i%len(keys)]); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
			})
		}
	}
}
