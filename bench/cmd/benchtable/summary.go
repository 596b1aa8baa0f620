package main

import (
	"slices"
	"strings"
)

// ourClient is the client the others are compared with.
const ourClient = "respwire"

// row is one client on one workload, over every round.
type row struct {
	workload, client string
	runs             int     // rounds that produced a figure
	nsPerOp          float64 // medians over the runs
	bytesPerOp       float64
	allocsPerOp      float64
	spread           float64 // (slowest - fastest) / median ns/op
	vsBestPeer       float64 // this row's ops/s ÷ the fastest peer's; 0: no peer measured
	ofCeiling        float64 // this row's ops/s ÷ redis-benchmark's; 0: not compared
	failure          string  // why no round produced a figure
	// metrics holds the median of every other metric the runs reported
	// ("p50-ns", "MB/s"), over the runs that reported it.
	metrics map[string]float64
}

func (r row) opsPerSec() float64 { return 1e9 / r.nsPerOp }

// summary is what the table and the chart show.
type summary struct {
	rows    []row              // by workload in run order, then client in clientOrder
	ceiling map[string]float64 // median redis-benchmark rate by test
}

// ceilingTest names the redis-benchmark test a workload is compared with.
func ceilingTest(workload string) string {
	switch strings.SplitN(workload, "/", 2)[0] {
	case "Get":
		return "GET"
	case "Set":
		return "SET"
	}
	return ""
}

// summarize reduces the samples of every round to one row per name in names
// (workload/client, in run order). failures holds, by name, why a run
// produced no sample.
func summarize(names []string, samples []sample, failures map[string]string, ceilings []map[string]float64) summary {
	byName := map[string][]sample{}
	for _, s := range samples {
		byName[s.name] = append(byName[s.name], s)
	}
	sum := summary{ceiling: medianRates(ceilings)}
	for _, name := range names {
		workload, client := splitName(name)
		r := row{workload: workload, client: client, failure: failures[name]}
		if runs := byName[name]; len(runs) > 0 {
			ns := collect(runs, func(s sample) float64 { return s.nsPerOp })
			r.runs = len(runs)
			r.nsPerOp = median(ns)
			r.bytesPerOp = median(collect(runs, func(s sample) float64 { return s.bytesPerOp }))
			r.allocsPerOp = median(collect(runs, func(s sample) float64 { return s.allocsPerOp }))
			r.spread = (slices.Max(ns) - slices.Min(ns)) / r.nsPerOp
			r.metrics = medianMetrics(runs)
		}
		sum.rows = append(sum.rows, r)
	}
	sum.compare()
	return sum
}

// compare fills vsBestPeer and ofCeiling.
func (sum *summary) compare() {
	bestPeer := map[string]float64{} // workload → fastest peer's ops/s
	for _, r := range sum.rows {
		if r.client != ourClient && r.runs > 0 {
			bestPeer[r.workload] = max(bestPeer[r.workload], r.opsPerSec())
		}
	}
	for i := range sum.rows {
		r := &sum.rows[i]
		if r.runs == 0 {
			continue
		}
		if best := bestPeer[r.workload]; best > 0 {
			r.vsBestPeer = r.opsPerSec() / best
		}
		if rate := sum.ceiling[ceilingTest(r.workload)]; rate > 0 {
			r.ofCeiling = r.opsPerSec() / rate
		}
	}
}

// workloads returns the workload names in order, each once.
func (sum summary) workloads() []string {
	var names []string
	for _, r := range sum.rows {
		if len(names) == 0 || names[len(names)-1] != r.workload {
			names = append(names, r.workload)
		}
	}
	return names
}

func medianMetrics(runs []sample) map[string]float64 {
	byUnit := map[string][]float64{}
	for _, s := range runs {
		for unit, v := range s.metrics {
			byUnit[unit] = append(byUnit[unit], v)
		}
	}
	medians := make(map[string]float64, len(byUnit))
	for unit, values := range byUnit {
		medians[unit] = median(values)
	}
	return medians
}

func medianRates(rounds []map[string]float64) map[string]float64 {
	byTest := map[string][]float64{}
	for _, rates := range rounds {
		for test, rate := range rates {
			byTest[test] = append(byTest[test], rate)
		}
	}
	medians := make(map[string]float64, len(byTest))
	for test, rates := range byTest {
		medians[test] = median(rates)
	}
	return medians
}

func collect(samples []sample, field func(sample) float64) []float64 {
	values := make([]float64, len(samples))
	for i, s := range samples {
		values[i] = field(s)
	}
	return values
}

// median of a non-empty slice; it sorts the slice.
func median(values []float64) float64 {
	slices.Sort(values)
	n := len(values)
	if n%2 == 1 {
		return values[n/2]
	}
	return (values[n/2-1] + values[n/2]) / 2
}
