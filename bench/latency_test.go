package bench

import (
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// latencySampleEvery: each goroutine of a sampled parallel workload times one
// call in this many, so reading the clock adds a few nanoseconds per op on
// average instead of two clock reads per op.
const latencySampleEvery = 16

// latencySampler collects the timed calls of one parallel run, each
// goroutine into a buffer of its own, all of them allocated before the timer
// starts so that sampling adds nothing to B/op and allocs/op.
type latencySampler struct {
	buffers [][]time.Duration
	next    atomic.Int64
}

// newLatencySampler makes room for the samples of a run of n ops, twice the
// even share for each of b.RunParallel's 64×GOMAXPROCS goroutines; a
// goroutine that does more than that stops sampling when its buffer is full.
func newLatencySampler(n int) *latencySampler {
	goroutines := parallelism * runtime.GOMAXPROCS(0)
	perGoroutine := 2*n/(latencySampleEvery*goroutines) + 8
	s := &latencySampler{buffers: make([][]time.Duration, goroutines)}
	for i := range s.buffers {
		s.buffers[i] = make([]time.Duration, 0, perGoroutine)
	}
	return s
}

// take hands a goroutine its empty buffer and the slot to give it back to.
// A nil sampler, or one with no buffer left, hands out none (capacity 0, so
// nothing is sampled).
func (s *latencySampler) take() (slot int, buffer []time.Duration) {
	if s == nil {
		return -1, nil
	}
	slot = int(s.next.Add(1) - 1)
	if slot >= len(s.buffers) {
		return -1, nil
	}
	return slot, s.buffers[slot]
}

// give stores the goroutine's samples back into its slot.
func (s *latencySampler) give(slot int, buffer []time.Duration) {
	if s != nil && slot >= 0 {
		s.buffers[slot] = buffer
	}
}

// report adds p50-ns and p99-ns to the benchmark's result, over every sample
// of every goroutine. Call it after b.RunParallel returns, with the timer
// stopped: it allocates.
func (s *latencySampler) report(b *testing.B) {
	if s == nil {
		return
	}
	var all []time.Duration
	for _, buffer := range s.buffers {
		all = append(all, buffer...)
	}
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(percentile(all, 50)), "p50-ns")
	b.ReportMetric(float64(percentile(all, 99)), "p99-ns")
}

// percentile is the nearest-rank p-th percentile of sorted, which is not
// empty: the smallest sample that at least p% of the samples do not exceed.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ⌈p·n/100⌉, from 1
	return sorted[max(rank, 1)-1]
}
