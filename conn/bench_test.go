package conn

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/respwire/respwire/internal/redistest"
)

const benchValue = "0123456789abcdef" // 16 bytes, as in the design's targets

// benchConn dials the package's server for a benchmark.
func benchConn(b *testing.B) *Conn {
	b.Helper()
	c, err := Dial(context.Background(), redistest.Server().Addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// reportWrites adds the write syscalls per operation since w0.
func reportWrites(b *testing.B, c *Conn, w0 uint64) {
	b.ReportMetric(float64(c.writes.Load()-w0)/float64(b.N), "writes/op")
}

// benchDo runs args serially or from 128 goroutines (64 per core on the
// 2-core machine the targets are set for).
func benchDo(b *testing.B, args ...string) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		c := benchConn(b)
		b.ReportAllocs()
		w0 := c.writes.Load()
		for b.Loop() {
			if _, err := c.Do(ctx, args...); err != nil {
				b.Fatal(err)
			}
		}
		reportWrites(b, c, w0)
		b.ReportMetric(float64(c.ownReads.Load())/float64(b.N), "own-reads/op")
	})
	b.Run("serial-ctx", func(b *testing.B) {
		// A context that can end: the caller reads its own reply
		// within a read deadline (see readOwnWithin).
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		c := benchConn(b)
		b.ReportAllocs()
		w0 := c.writes.Load()
		for b.Loop() {
			if _, err := c.Do(ctx, args...); err != nil {
				b.Fatal(err)
			}
		}
		reportWrites(b, c, w0)
		b.ReportMetric(float64(c.ownReads.Load())/float64(b.N), "own-reads/op")
	})
	b.Run("parallel", func(b *testing.B) {
		c := benchConn(b)
		b.ReportAllocs()
		b.SetParallelism(128 / runtime.GOMAXPROCS(0))
		w0 := c.writes.Load()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Do(ctx, args...); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportWrites(b, c, w0)
	})
}

func BenchmarkGet(b *testing.B) {
	if _, err := redistest.Server().Do(context.Background(), "SET", "bench:get", benchValue); err != nil {
		b.Fatal(err)
	}
	benchDo(b, "GET", "bench:get")
}

func BenchmarkSet(b *testing.B) {
	benchDo(b, "SET", "bench:set", benchValue)
}

// BenchmarkSetSized is BenchmarkSet with values of the sizes users store:
// under load, batches of them outgrow the buffers an idle Conn keeps.
func BenchmarkSetSized(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"16KiB", 16 << 10}} {
		b.Run(size.name, func(b *testing.B) {
			benchDo(b, "SET", "bench:set:"+size.name, strings.Repeat("v", size.n))
		})
	}
}

// BenchmarkDoMulti sends pipelines of 100 and 1,000 SETs.
func BenchmarkDoMulti(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			c := benchConn(b)
			ctx := context.Background()
			cmds := make([][]string, n)
			for i := range cmds {
				cmds[i] = []string{"SET", "bench:multi:" + strconv.Itoa(i), benchValue}
			}
			b.ReportAllocs()
			w0 := c.writes.Load()
			for b.Loop() {
				if _, err := c.DoMulti(ctx, cmds...); err != nil {
					b.Fatal(err)
				}
			}
			reportWrites(b, c, w0)
		})
	}
}

// BenchmarkIdleConn reports the memory an idle Conn holds (see
// idleConnBytes), as B/conn.
func BenchmarkIdleConn(b *testing.B) {
	var perConn float64
	for b.Loop() {
		perConn = idleConnBytes(b, 200)
	}
	b.ReportMetric(perConn, "B/conn")
}

// BenchmarkInspectBatch is what DoMulti spends looking at a batch of 1,000
// GETs before sending it.
func BenchmarkInspectBatch(b *testing.B) {
	cmds := make([][]string, 1000)
	for i := range cmds {
		cmds[i] = []string{"GET", "bench:multi:" + strconv.Itoa(i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if info := inspectBatch(cmds); info.err != nil {
			b.Fatal(info.err)
		}
	}
}
