package bench

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// parallelism is the b.SetParallelism factor of the parallel workloads:
	// 64 goroutines per GOMAXPROCS, 128 on 2 cores.
	parallelism     = 64
	valueSize       = 16
	pipelineLen     = 100
	longPipelineLen = 1000
	setupTime       = 30 * time.Second
)

// BenchmarkGet reads 16-byte values of keys written beforehand: one
// goroutine (latency) and 64×GOMAXPROCS goroutines (throughput). The
// parallel run also reports the median and 99th percentile of its calls'
// latency, as p50-ns and p99-ns.
func BenchmarkGet(b *testing.B) {
	addr := standaloneAddr(b)
	b.Run("serial", func(b *testing.B) {
		eachKind(b, serial(standaloneAt(addr)), func(b *testing.B, c kvClient) { serialGet(b, c, getKeys, valueSize) })
	})
	b.Run("parallel", func(b *testing.B) {
		eachKind(b, standaloneAt(addr), func(b *testing.B, c kvClient) {
			runParallelSampled(b, getOp(c, getKeys, valueSize), newLatencySampler(b.N))
		})
	})
}

// BenchmarkSet writes 16-byte values, serially and from 64×GOMAXPROCS goroutines.
func BenchmarkSet(b *testing.B) {
	addr := standaloneAddr(b)
	b.Run("serial", func(b *testing.B) {
		eachKind(b, serial(standaloneAt(addr)), func(b *testing.B, c kvClient) {
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := c.set(ctx, setKeys[i%len(setKeys)], value16); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("parallel", func(b *testing.B) {
		eachKind(b, standaloneAt(addr), func(b *testing.B, c kvClient) {
			runParallel(b, func(ctx context.Context, i int) error {
				return c.set(ctx, setKeys[i%len(setKeys)], value16)
			})
		})
	})
}

// BenchmarkDoMulti sends one pipeline of 100 GETs per op, and one of 1,000,
// from one goroutine.
func BenchmarkDoMulti(b *testing.B) {
	addr := standaloneAddr(b)
	pipelines := func(k clientKind) dialFunc {
		if k.noPipeline {
			return nil
		}
		return standaloneAt(addr)(k)
	}
	for _, n := range []int{pipelineLen, longPipelineLen} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			eachKind(b, pipelines, func(b *testing.B, c kvClient) {
				send := c.pipeline(getKeys[:n])
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := send(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkClusterGet reads keys that cover every slot of the 3+3 cluster,
// from 64×GOMAXPROCS goroutines.
func BenchmarkClusterGet(b *testing.B) {
	addrs := clusterAddrs(b)
	b.Run("parallel", func(b *testing.B) {
		eachKind(b, clusterAt(addrs), func(b *testing.B, c kvClient) { runParallel(b, getOp(c, clusterKeys, valueSize)) })
	})
}

// BenchmarkGet1MiB reads one 1 MiB value per op, from one goroutine: with a
// plain GET, and streamed into one buffer of the caller's (see
// serialGetToBuffer).
func BenchmarkGet1MiB(b *testing.B) {
	addr := standaloneAddr(b)
	b.Run("serial", func(b *testing.B) {
		eachKind(b, serial(standaloneAt(addr)), func(b *testing.B, c kvClient) {
			b.SetBytes(bigValueSize)
			serialGet(b, c, []string{bigKey}, bigValueSize)
		})
	})
	b.Run("serial-streamed", func(b *testing.B) {
		eachKind(b, serial(standaloneAt(addr)), func(b *testing.B, c kvClient) {
			serialGetToBuffer(b, c, []string{bigKey}, bigValueSize)
		})
	})
}

// dialFunc makes one client; a nil dialFunc means the workload does not
// apply to that kind.
type dialFunc func(ctx context.Context) (kvClient, error)

func standaloneAt(addr string) func(k clientKind) dialFunc {
	return func(k clientKind) dialFunc {
		if k.standalone == nil {
			return nil
		}
		return func(ctx context.Context) (kvClient, error) { return k.standalone(ctx, addr) }
	}
}

func clusterAt(addrs []string) func(k clientKind) dialFunc {
	return func(k clientKind) dialFunc {
		if k.cluster == nil {
			return nil
		}
		return func(ctx context.Context) (kvClient, error) { return k.cluster(ctx, addrs) }
	}
}

// serial leaves out the kinds whose setting only matters to concurrent
// callers: from one goroutine they run their library's default path.
func serial(dialer func(k clientKind) dialFunc) func(k clientKind) dialFunc {
	return func(k clientKind) dialFunc {
		if k.concurrentOnly {
			return nil
		}
		return dialer(k)
	}
}

// eachKind runs the workload as one sub-benchmark per client kind.
func eachKind(b *testing.B, dialer func(k clientKind) dialFunc, run func(b *testing.B, c kvClient)) {
	for _, k := range clientKinds() {
		if dial := dialer(k); dial != nil {
			b.Run(k.name, func(b *testing.B) { withClient(b, dial, run) })
		}
	}
}

// withClient makes a client, runs the workload and closes the client; making
// and closing are not timed.
func withClient(b *testing.B, dial dialFunc, run func(b *testing.B, c kvClient)) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTime)
	defer cancel()
	c, err := dial(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		b.StopTimer()
		if err := c.close(); err != nil {
			b.Error(err)
		}
	}()
	run(b, c)
}

func serialGet(b *testing.B, c kvClient, keys []string, wantLen int) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, err := c.get(ctx, keys[i%len(keys)])
		if err != nil {
			b.Fatal(err)
		}
		if err := checkValue(v, wantLen); err != nil {
			b.Fatal(err)
		}
	}
}

// getOp is one GET of keys[i % len(keys)], checked for wantLen bytes.
func getOp(c kvClient, keys []string, wantLen int) func(ctx context.Context, i int) error {
	return func(ctx context.Context, i int) error {
		v, err := c.get(ctx, keys[i%len(keys)])
		if err != nil {
			return err
		}
		return checkValue(v, wantLen)
	}
}

// runParallel runs op from 64×GOMAXPROCS goroutines, each walking the keys
// from its own starting point. Before the timer starts, every goroutine's
// worth of concurrent calls has been made once, so pooled clients have
// dialled their connections.
func runParallel(b *testing.B, op func(ctx context.Context, i int) error) {
	runParallelSampled(b, op, nil)
}

// runParallelSampled is runParallel that also times some of the calls into
// latencies and reports their percentiles, when latencies is not nil.
func runParallelSampled(b *testing.B, op func(ctx context.Context, i int) error, latencies *latencySampler) {
	ctx := context.Background()
	warm(b, op)
	var goroutines atomic.Int64
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		i := int(goroutines.Add(1)) * 7919
		slot, timed := latencies.take()
		defer func() { latencies.give(slot, timed) }()
		for n := 0; pb.Next(); n++ {
			var start time.Time
			sample := n%latencySampleEvery == 0 && len(timed) < cap(timed)
			if sample {
				start = time.Now()
			}
			if err := op(ctx, i); err != nil {
				b.Error(err)
				return
			}
			if sample {
				timed = append(timed, time.Since(start))
			}
			i++
		}
	})
	b.StopTimer()
	// The client's CPU time per op (user and system, every goroutine of
	// the process): what it costs beside the wall-clock rate, which other
	// processes on the machine move far more.
	b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	latencies.report(b)
}

func warm(b *testing.B, op func(ctx context.Context, i int) error) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for i := range parallelism * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			if err := op(ctx, i); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
