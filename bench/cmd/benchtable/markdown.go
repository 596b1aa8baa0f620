package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// environment describes where and how the figures were measured.
type environment struct {
	date, cpu, goVersion, redisVersion, load string
	cores, rounds                            int
	benchtime                                string
}

// writeTable writes the summary as a Markdown table.
func writeTable(w io.Writer, sum summary) error {
	var b strings.Builder
	b.WriteString("| benchmark | client | ops/s | ns/op | B/op | allocs/op | vs best peer | of ceiling | spread |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range sum.rows {
		client := clientCell(r.client)
		if r.runs == 0 {
			why := "not measured"
			if r.failure != "" {
				why = "failed: " + r.failure
			}
			fmt.Fprintf(&b, "| %s | %s | %s | | | | | | |\n", r.workload, client, why)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | ±%.0f%% |\n",
			r.workload, client, thousands(r.opsPerSec()), formatNs(r.nsPerOp),
			thousands(r.bytesPerOp), thousands(r.allocsPerOp),
			ratio(r.vsBestPeer, r.client == ourClient), percent(r.ofCeiling), 50*r.spread)
	}
	writeLatencies(&b, sum)
	writeCPU(&b, sum)
	_, err := io.WriteString(w, b.String())
	return err
}

// Units of the latency percentiles a benchmark reports (bench/latency_test.go).
const (
	p50Unit = "p50-ns"
	p99Unit = "p99-ns"
)

// writeLatencies adds, under the main table, a table of the latency
// percentiles of the rows that report them (medians over the rounds, in
// microseconds); it writes nothing when no row does.
func writeLatencies(b *strings.Builder, sum summary) {
	header := false
	for _, r := range sum.rows {
		p50, ok50 := r.metrics[p50Unit]
		p99, ok99 := r.metrics[p99Unit]
		if !ok50 || !ok99 {
			continue
		}
		if !header {
			b.WriteString("\nLatency of one call, sampled in the same runs:\n\n")
			b.WriteString("| benchmark | client | p50 µs | p99 µs |\n")
			b.WriteString("| --- | --- | ---: | ---: |\n")
			header = true
		}
		client := clientCell(r.client)
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", r.workload, client, micros(p50), micros(p99))
	}
}

// Units of the client's CPU time per op, or per message received, that a
// benchmark reports (bench/kv_bench_test.go, pubsub_bench_test.go).
var cpuUnits = []string{"cpu-ns/op", "cpu-ns/msg"}

// writeCPU adds a table of the bench process's CPU time per op of the rows
// that report it (medians over the rounds); it writes nothing when no row
// does.
func writeCPU(b *strings.Builder, sum summary) {
	header := false
	for _, r := range sum.rows {
		for _, unit := range cpuUnits {
			ns, ok := r.metrics[unit]
			if !ok {
				continue
			}
			if !header {
				b.WriteString("\nCPU time of the client process (user and system) per op, in the same runs:\n\n")
				b.WriteString("| benchmark | client | CPU ns/op |\n")
				b.WriteString("| --- | --- | ---: |\n")
				header = true
			}
			client := clientCell(r.client)
			fmt.Fprintf(b, "| %s | %s | %s |\n", r.workload, client, formatNs(ns))
		}
	}
}

// clientCell is a client's name as the tables show it: respwire's in bold.
func clientCell(client string) string {
	if client == ourClient {
		return "**" + client + "**"
	}
	return client
}

// micros formats nanoseconds as microseconds with one decimal.
func micros(ns float64) string {
	return strconv.FormatFloat(ns/1e3, 'f', 1, 64)
}

// writeResults writes RESULTS.md: how the figures were taken, the ceiling,
// the table and how to read it.
func writeResults(w io.Writer, env environment, sum summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# respwire benchmark results\n\n")
	fmt.Fprintf(&b, "Measured %s by `make bench` (`bench/cmd/benchtable`): %d rounds, `-benchtime %s`, "+
		"every client of a workload run in rotating order within each round.\n\n", env.date, env.rounds, env.benchtime)
	fmt.Fprintf(&b, "- machine: %s, %d cores (load average %s at the start)\n", env.cpu, env.cores, env.load)
	fmt.Fprintf(&b, "- %s; %s, on loopback\n", env.goVersion, env.redisVersion)
	fmt.Fprintf(&b, "- ceiling, `redis-benchmark -P 16 -d 16` on the same server, median of the rounds:")
	tests := make([]string, 0, len(sum.ceiling))
	for test := range sum.ceiling {
		tests = append(tests, test)
	}
	slices.Sort(tests)
	for i, test := range tests {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s %s/s", test, thousands(sum.ceiling[test]))
	}
	b.WriteString("\n\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if err := writeTable(w, sum); err != nil {
		return err
	}
	_, err := io.WriteString(w, resultsLegend)
	return err
}

const resultsLegend = `
Columns: figures are medians over the rounds. **ops/s** is 10⁹ ÷ ns/op, where an op is one
GET or SET, one pipeline of 100 or 1,000 GETs (DoMulti/100, DoMulti/1000), or one message
received (PubSub). **vs best peer** is ops/s ÷ the fastest peer on the same workload, every
variant of every peer included (rueidis, rueidis-flush20us, rueidis-mux4, goredis,
goredis-autopipeline, goredis-autopipeline-tuned; above 1: faster than every one). **of ceiling** is ops/s ÷ the
redis-benchmark rate for the same command. **spread** is ± half the distance between the
fastest and the slowest round, relative to the median. **p50**, **p99**: the median and
99th percentile of one call's latency, from one call in 16 of each goroutine, timed in
the same run. **CPU ns/op**: the CPU time the whole bench process (every goroutine, user and
system) spent per op, which other processes on the machine move far less than ops/s; the
server's CPU is not in it. The chart is ` + "`ratios.svg`" + `; the raw
` + "`go test`" + ` output of every run, for benchstat, is in ` + "`bench/results/raw.txt`" + `.
`

func formatNs(ns float64) string {
	if ns >= 100 {
		return thousands(ns)
	}
	return strconv.FormatFloat(ns, 'f', 1, 64)
}

// thousands formats v rounded to an integer, with commas between groups.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

func ratio(v float64, bold bool) string {
	if v == 0 {
		return ""
	}
	s := strconv.FormatFloat(v, 'f', 2, 64) + "×"
	if bold {
		return "**" + s + "**"
	}
	return s
}

func percent(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(100*v, 'f', 0, 64) + "%"
}
