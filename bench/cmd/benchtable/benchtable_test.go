package main

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		want sample
		ok   bool
		err  bool
	}{
		{
			line: "BenchmarkGet/parallel/goredis-autopipeline-2   \t  380071\t      3123 ns/op\t     306 B/op\t       4 allocs/op",
			want: sample{name: "Get/parallel/goredis-autopipeline", iterations: 380071, nsPerOp: 3123, bytesPerOp: 306, allocsPerOp: 4, metrics: map[string]float64{}},
			ok:   true,
		},
		{
			line: "BenchmarkPubSub/rueidis-2 1502824 939.1 ns/op 1064867 msgs/s 168 B/op 4 allocs/op",
			want: sample{name: "PubSub/rueidis", iterations: 1502824, nsPerOp: 939.1, bytesPerOp: 168, allocsPerOp: 4, metrics: map[string]float64{"msgs/s": 1064867}},
			ok:   true,
		},
		{ // GOMAXPROCS=1: go test adds no suffix, and the client's dash stays
			line: "BenchmarkGet1MiB/serial/goredis-autopipeline 10 1184903 ns/op 884.95 MB/s 1062504 B/op 19 allocs/op",
			want: sample{name: "Get1MiB/serial/goredis-autopipeline", iterations: 10, nsPerOp: 1184903, bytesPerOp: 1062504, allocsPerOp: 19, metrics: map[string]float64{"MB/s": 884.95}},
			ok:   true,
		},
		{line: "goos: linux"},
		{line: "PASS"},
		{line: "--- FAIL: BenchmarkGet/serial/respwire-2"},
		{line: "BenchmarkGet/serial/respwire-2 --- FAIL: oops and more"},
		{line: "BenchmarkGet/serial/x-2 100 12 ns/op 3", err: true},
		{line: "BenchmarkGet/serial/x-2 100 twelve ns/op", err: true},
		{line: "BenchmarkGet/serial/x-2 100 12 B/op 1 allocs/op", err: true},
		{line: "BenchmarkGet/serial/x-2 100 0 ns/op", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, ok, err := parseLine(tt.line)
			if tt.err {
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), "benchtable: "), err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			if tt.ok {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestParseOutputKeepsOrder(t *testing.T) {
	out := "goos: linux\nBenchmarkA/x/c1-2 5 10 ns/op\nsome log line\nBenchmarkA/x/c2-2 5 20 ns/op\nPASS\n"
	samples, err := parseOutput(out)
	require.NoError(t, err)
	require.Len(t, samples, 2)
	assert.Equal(t, "A/x/c1", samples[0].name)
	assert.Equal(t, "A/x", samples[1].workload())
	assert.Equal(t, "c2", samples[1].client())
}

func TestSelectNamesLeavesOutBenchmarksWithoutClients(t *testing.T) {
	found := []sample{{name: "Get/serial/respwire"}, {name: "SentinelFailover"}, {name: "Get/serial/rueidis"}, {name: "Set/serial/respwire"}}
	assert.Equal(t, []string{"Get/serial/respwire", "Get/serial/rueidis"}, selectNames(found, regexp.MustCompile("^Get/")))
	assert.Equal(t, []string{"Get/serial/respwire", "Get/serial/rueidis", "Set/serial/respwire"}, selectNames(found, regexp.MustCompile(".")))
}

func TestParseFailures(t *testing.T) {
	out := strings.Join([]string{
		"BenchmarkGet/serial/rueidis-2 100 10 ns/op",
		"--- FAIL: BenchmarkGet/serial/respwire-2",
		"    kv_bench_test.go:140: conn: closed",
		"--- FAIL: BenchmarkGet/serial",
		"--- FAIL: BenchmarkGet",
		"--- FAIL: BenchmarkPubSub/respwire-2",
		"--- FAIL: BenchmarkPubSub",
		"FAIL",
	}, "\n")
	failures := parseFailures(out)
	assert.Equal(t, "kv_bench_test.go:140: conn: closed", failures["Get/serial/respwire"])
	assert.Equal(t, "see bench/results/raw.txt", failures["PubSub/respwire"], "a failure without a message")
	assert.Equal(t, []string{"Get/serial/respwire", "PubSub/respwire"}, leaves(failures))
}

func TestBenchPatternSelectsExactlyOneName(t *testing.T) {
	names := []string{
		"BenchmarkGet/serial/goredis", "BenchmarkGet/serial/goredis-autopipeline",
		"BenchmarkGet/parallel/goredis", "BenchmarkGet1MiB/serial/goredis", "BenchmarkClusterGet/parallel/goredis",
	}
	// go test splits -bench at each slash and matches the pieces level by level.
	pattern := strings.Split(benchPattern("Get/serial/goredis"), "/")
	require.Len(t, pattern, 3)
	var matched []string
	for _, name := range names {
		levels := strings.Split(name, "/")
		all := true
		for i, p := range pattern {
			all = all && regexp.MustCompile(p).MatchString(levels[i])
		}
		if all {
			matched = append(matched, name)
		}
	}
	assert.Equal(t, []string{"BenchmarkGet/serial/goredis"}, matched)
	assert.Equal(t, `^BenchmarkDoMulti$/^100$/^x\.y$`, benchPattern("DoMulti/100/x.y"))
}

func TestParseCeiling(t *testing.T) {
	out := `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","781249.94","0.792","0.144","0.735","1.615","2.143","2.943"
"GET","1162790.62","0.426","0.088","0.319","1.031","1.471","1.975"
`
	rates, err := parseCeiling([]byte(out))
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"SET": 781249.94, "GET": 1162790.62}, rates)

	for _, bad := range []string{
		"",
		"SET: 781249.94 requests per second\n",
		"\"test\",\"rps\"\n\"GET\",\"fast\"\n",
		"\"test\",\"rps\"\n\"GET\",\"0\"\n",
		"\"test\",\"rps\"\n",
	} {
		_, err := parseCeiling([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func TestSummarize(t *testing.T) {
	names := []string{"Get/parallel/respwire", "Get/parallel/rueidis", "Get/parallel/goredis", "PubSub/respwire", "PubSub/goredis"}
	samples := []sample{
		// respwire: 3 rounds, median 250 ns/op → 4M ops/s
		{name: "Get/parallel/respwire", nsPerOp: 250, bytesPerOp: 16, allocsPerOp: 1, metrics: map[string]float64{"p50-ns": 30000, "p99-ns": 90000}},
		{name: "Get/parallel/respwire", nsPerOp: 200, bytesPerOp: 16, allocsPerOp: 1, metrics: map[string]float64{"p50-ns": 20000, "p99-ns": 70000}},
		{name: "Get/parallel/respwire", nsPerOp: 300, bytesPerOp: 24, allocsPerOp: 2, metrics: map[string]float64{"p50-ns": 40000, "p99-ns": 80000}},
		// rueidis, the best peer: median 500 ns/op → 2M ops/s
		{name: "Get/parallel/rueidis", nsPerOp: 400},
		{name: "Get/parallel/rueidis", nsPerOp: 600},
		{name: "Get/parallel/goredis", nsPerOp: 1000},
		{name: "PubSub/goredis", nsPerOp: 1000},
	}
	failures := map[string]string{"PubSub/respwire": "pubsub: closed"}
	ceilings := []map[string]float64{{"GET": 5e6, "SET": 1}, {"GET": 3e6}, {"GET": 4e6}}
	sum := summarize(names, samples, failures, ceilings)

	require.Len(t, sum.rows, 5)
	assert.Equal(t, 4e6, sum.ceiling["GET"], "median of the rounds")
	ours := sum.rows[0]
	assert.Equal(t, 3, ours.runs)
	assert.Equal(t, 250.0, ours.nsPerOp)
	assert.Equal(t, 16.0, ours.bytesPerOp)
	assert.InDelta(t, 2.0, ours.vsBestPeer, 1e-9, "4M ops/s against rueidis's 2M")
	assert.InDelta(t, 1.0, ours.ofCeiling, 1e-9, "4M ops/s against redis-benchmark's 4M")
	assert.InDelta(t, 0.4, ours.spread, 1e-9, "(300-200)/250")
	assert.InDelta(t, 1.0, sum.rows[1].vsBestPeer, 1e-9)
	assert.InDelta(t, 0.5, sum.rows[2].vsBestPeer, 1e-9)

	failed := sum.rows[3]
	assert.Equal(t, 0, failed.runs)
	assert.Equal(t, "pubsub: closed", failed.failure)
	assert.Zero(t, failed.vsBestPeer)
	assert.Zero(t, sum.rows[4].ofCeiling, "PubSub has no redis-benchmark counterpart")
	assert.Equal(t, []string{"Get/parallel", "PubSub"}, sum.workloads())

	var table strings.Builder
	require.NoError(t, writeTable(&table, sum))
	assert.Contains(t, table.String(), "| Get/parallel | **respwire** | 4,000,000 | 250 | 16 | 1 | **2.00×** | 100% | ±20% |")
	assert.Contains(t, table.String(), "| PubSub | **respwire** | failed: pubsub: closed |")
	assert.Equal(t, map[string]float64{"p50-ns": 30000, "p99-ns": 80000}, ours.metrics, "each metric's median")
	assert.Contains(t, table.String(), "| benchmark | client | p50 µs | p99 µs |")
	assert.Contains(t, table.String(), "| Get/parallel | **respwire** | 30.0 | 80.0 |")
	assert.NotContains(t, table.String(), "| Get/parallel | rueidis | 0.0", "rows without percentiles are not in the latency table")
}

func TestCPUTable(t *testing.T) {
	sum := summary{rows: []row{
		{workload: "Get/parallel", client: "respwire", runs: 1, nsPerOp: 100, metrics: map[string]float64{"cpu-ns/op": 1234}},
		{workload: "Get/parallel", client: "rueidis", runs: 1, nsPerOp: 200},
		{workload: "PubSub", client: "respwire", runs: 1, nsPerOp: 50, metrics: map[string]float64{"cpu-ns/msg": 321}},
	}}
	var table strings.Builder
	require.NoError(t, writeTable(&table, sum))
	assert.Contains(t, table.String(), "| benchmark | client | CPU ns/op |")
	assert.Contains(t, table.String(), "| Get/parallel | **respwire** | 1,234 |")
	assert.Contains(t, table.String(), "| PubSub | **respwire** | 321 |")
	_, cpuTable, _ := strings.Cut(table.String(), "CPU ns/op |")
	assert.NotContains(t, cpuTable, "| rueidis |", "a row without the metric is left out")

	var none strings.Builder
	require.NoError(t, writeTable(&none, summary{rows: []row{{workload: "Get/serial", client: "respwire", runs: 1, nsPerOp: 100}}}))
	assert.NotContains(t, none.String(), "CPU ns/op |")
}

func TestNoLatencyTableWithoutPercentiles(t *testing.T) {
	sum := summary{rows: []row{{workload: "Get/serial", client: "respwire", runs: 1, nsPerOp: 100, metrics: map[string]float64{"MB/s": 5}}}}
	var table strings.Builder
	require.NoError(t, writeTable(&table, sum))
	assert.NotContains(t, table.String(), "p50")
}

func TestByWorkloadGroupsFailedNamesWithTheirWorkload(t *testing.T) {
	names := []string{"Get/serial/a", "Get/serial/b", "Set/serial/a", "Get/serial/c"}
	assert.Equal(t, []string{"Get/serial/a", "Get/serial/b", "Get/serial/c", "Set/serial/a"}, byWorkload(names))
	groups := groupByWorkload(byWorkload(names), map[string]string{"Get/serial/b": "broken"})
	assert.Equal(t, [][]string{{"Get/serial/a", "Get/serial/c"}, {"Set/serial/a"}}, groups)
}

func TestChartIsWellFormedSVG(t *testing.T) {
	sum := summary{rows: []row{
		{workload: "Get/parallel", client: "respwire", runs: 1, nsPerOp: 100, vsBestPeer: 2.3},
		{workload: "Get/parallel", client: "<peer&>", runs: 1, nsPerOp: 230, vsBestPeer: 1},
		{workload: "PubSub", client: "respwire", failure: "broken"},
	}}
	var svg strings.Builder
	require.NoError(t, writeChart(&svg, sum))
	dec := xml.NewDecoder(strings.NewReader(svg.String()))
	var bars, texts int
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if el, ok := tok.(xml.StartElement); ok {
			switch el.Name.Local {
			case "rect":
				bars++
			case "text":
				texts++
			}
		}
	}
	assert.Equal(t, 3, bars, "the background and one bar per measured row")
	assert.Contains(t, svg.String(), "&lt;peer&amp;&gt;")
	assert.Contains(t, svg.String(), "2.30×")
	assert.Contains(t, svg.String(), "2.5×", "the axis reaches past the longest bar")
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -45678: "-45,678"} {
		assert.Equal(t, want, thousands(v), "%v", v)
	}
}
