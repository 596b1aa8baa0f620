package cluster

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/slots"
)

// benchKeys are keys spread over every slot range, each holding a 16-byte
// value.
func benchKeys(b *testing.B, c *Client) []string {
	b.Helper()
	keys := make([]string, 1024)
	cmds := make([][]string, len(keys))
	for i := range keys {
		keys[i] = "bench:" + strconv.Itoa(i)
		cmds[i] = []string{"SET", keys[i], "0123456789abcdef"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.DoMulti(ctx, cmds...)
	require.NoError(b, err)
	return keys
}

// BenchmarkGet measures GET through the cluster client over keys in all
// slots. Routing adds no allocation: the one left is the reply's value.
func BenchmarkGet(b *testing.B) {
	c := newTestClient(b, nil)
	keys := benchKeys(b, c)
	ctx := context.Background()

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := c.Do(ctx, "GET", keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(64) // 128 goroutines on 2 CPUs
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1) * 7919)
			for pb.Next() {
				if _, err := c.Do(ctx, "GET", keys[i%len(keys)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkDoMulti measures a batch of 100 GETs spread over every node.
func BenchmarkDoMulti(b *testing.B) {
	c := newTestClient(b, nil)
	keys := benchKeys(b, c)
	cmds := make([][]string, 100)
	for i := range cmds {
		cmds[i] = []string{"GET", keys[i*7%len(keys)]}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DoMulti(ctx, cmds...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoute measures finding a command's node: lookup, key slot, table.
func BenchmarkRoute(b *testing.B) {
	c := newTestClient(b, nil)
	args := []string{"GET", "bench:42"}
	b.ReportAllocs()
	for b.Loop() {
		info, _ := c.commands.lookup(args[0])
		slot, _ := info.keySlot(args)
		if c.table.Load().pick(slot, false) == nil {
			b.Fatal("no node")
		}
	}
}

// BenchmarkGetOneNode isolates the cost of routing: serial GETs over the
// keys one node serves, sent on that node's conn.Client directly, then
// through the cluster Client. (BenchmarkGet/serial is slower than both
// because each GET wakes a different server process.)
func BenchmarkGetOneNode(b *testing.B) {
	c := newTestClient(b, nil)
	all := benchKeys(b, c)
	ctx := context.Background()
	n := c.table.Load().pick(int(slots.Slot(all[0])), false)
	cl, err := n.get(ctx)
	require.NoError(b, err)
	var keys []string
	for _, k := range all {
		if c.table.Load().pick(int(slots.Slot(k)), false) == n {
			keys = append(keys, k)
		}
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := cl.Do(ctx, "GET", keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("routed", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := c.Do(ctx, "GET", keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkAcquireRelease measures the in-flight count every call through a
// node keeps (node.acquire and node.release), with every goroutine on one
// node: the worst case for its shared counter.
func BenchmarkAcquireRelease(b *testing.B) {
	n := (&nodeSet{}).newNode("bench")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !n.acquire() {
				b.Error("retired")
				return
			}
			n.release()
		}
	})
}

// BenchmarkMGetManySlots measures an MGET of 100 keys in 100 slots, split
// by slot (fanout.go) and answered in key order.
func BenchmarkMGetManySlots(b *testing.B) {
	c := newTestClient(b, nil)
	keys := benchKeys(b, c)
	args := []string{"MGET"}
	seen := map[uint16]bool{}
	for _, k := range keys {
		if s := slots.Slot(k); !seen[s] && len(args) <= 100 {
			seen[s] = true
			args = append(args, k)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := c.Do(ctx, args...)
		if err != nil {
			b.Fatal(err)
		}
		if len(v.Elems()) != len(args)-1 {
			b.Fatal("wrong count")
		}
	}
}
