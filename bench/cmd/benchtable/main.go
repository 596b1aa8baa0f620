// Command benchtable runs the bench module's benchmarks for every client,
// interleaved over several rounds against the same servers, and prints a
// table of the medians: ops/s, ns/op, B/op, allocs/op, each client's ratio to
// the fastest peer, and the share of redis-benchmark's pipelined rate. It
// writes the table to RESULTS.md and a bar chart of the ratios to
// ratios.svg. Run it from the bench module (`make bench` does).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	rounds          int
	benchtime       string
	filter          *regexp.Regexp
	ceilingRequests int
	outDir          string
}

func main() {
	var cfg config
	filter := flag.String("bench", ".", "regexp selecting workload/client names, e.g. 'Get/parallel' or 'respwire|rueidis'")
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds; each runs every workload once per client")
	flag.StringVar(&cfg.benchtime, "benchtime", "1s", "-test.benchtime of each run")
	flag.IntVar(&cfg.ceilingRequests, "ceiling-requests", 2_000_000, "requests per redis-benchmark test")
	flag.StringVar(&cfg.outDir, "out", ".", "directory for RESULTS.md and ratios.svg")
	flag.Parse()
	var err error
	if cfg.filter, err = regexp.Compile(*filter); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: -bench:", err)
		os.Exit(2)
	}
	if cfg.rounds < 1 {
		fmt.Fprintln(os.Stderr, "benchtable: -rounds must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	if ctx.Err() != nil {
		err = errors.New("benchtable: interrupted; the servers it started are stopped")
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) (err error) {
	moduleDir, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(moduleDir, "go.mod")); err != nil {
		return fmt.Errorf("benchtable: run me from the bench module (make bench does): %w", err)
	}
	env := describeEnvironment(cfg)
	tmp, err := os.MkdirTemp("", "benchtable-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	progress("building the benchmarks")
	binary, err := buildBinary(ctx, moduleDir, tmp)
	if err != nil {
		return err
	}
	progress("starting a standalone server and a 3+3 cluster (or using REDIS_ADDR and REDIS_CLUSTER_ADDRS)")
	srv, err := startServers(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := srv.stop(); err == nil {
			err = stopErr
		}
	}()
	if err := os.MkdirAll(filepath.Join(moduleDir, "results"), 0o755); err != nil {
		return err
	}
	raw, err := os.Create(filepath.Join(moduleDir, "results", "raw.txt"))
	if err != nil {
		return err
	}
	defer raw.Close()
	r := &runner{binary: binary, moduleDir: moduleDir, env: srv.env(), raw: raw}

	sum, err := measure(ctx, r, srv.standaloneAddr, cfg)
	if err != nil {
		return err
	}
	if err := writeTable(os.Stdout, sum); err != nil {
		return err
	}
	return writeOutputs(cfg.outDir, env, sum)
}

// measure finds the benchmarks with one quick pass, then runs each selected
// one cfg.rounds times, rotating the order of the clients of a workload from
// round to round so that noise hits them alike.
func measure(ctx context.Context, r *runner, addr string, cfg config) (summary, error) {
	progress("finding the benchmarks (each once, -benchtime 1x)")
	found, failures, err := r.run(ctx, ".", "1x")
	if err != nil {
		if len(found) == 0 {
			return summary{}, err
		}
		progress("warning: %v", err)
	}
	names := selectNames(found, cfg.filter)
	for _, name := range leaves(failures) {
		if cfg.filter.MatchString(name) {
			names = append(names, name)
			progress("%s failed its first run and is left out: %s", name, failures[name])
		}
	}
	if len(names) == 0 {
		return summary{}, fmt.Errorf("benchtable: no benchmark matches -bench %s", cfg.filter)
	}
	names = byWorkload(names)
	groups := groupByWorkload(names, failures)

	var samples []sample
	var ceilings []map[string]float64
	for round := range cfg.rounds {
		rates, err := ceiling(ctx, addr, cfg.ceilingRequests)
		if err != nil {
			return summary{}, err
		}
		ceilings = append(ceilings, rates)
		progress("round %d/%d: redis-benchmark -P 16: GET %s/s, SET %s/s", round+1, cfg.rounds, thousands(rates["GET"]), thousands(rates["SET"]))
		for gi, group := range groups {
			for i := range group {
				name := group[(i+round+gi)%len(group)]
				got, failed, err := r.run(ctx, benchPattern(name), cfg.benchtime)
				if ctx.Err() != nil {
					return summary{}, ctx.Err()
				}
				for failedName, why := range failed {
					failures[failedName] = why
				}
				measured := false
				for _, s := range got {
					if s.name == name {
						samples = append(samples, s)
						measured = true
						progress("round %d/%d: %-40s %14s ops/s", round+1, cfg.rounds, name, thousands(1e9/s.nsPerOp))
					}
				}
				switch {
				case err != nil && !measured:
					failures[name], _, _ = strings.Cut(err.Error(), "\n")
					progress("round %d/%d: %s: %v", round+1, cfg.rounds, name, err)
				case err != nil:
					progress("round %d/%d: %s measured, but: %v", round+1, cfg.rounds, name, err)
				}
			}
		}
	}
	return summarize(names, samples, failures, ceilings), nil
}

// selectNames returns the names of the samples that filter matches and
// that compare clients: a benchmark whose name has no client element (the
// Sentinel failover measurement, which reports every client's figures as
// metrics of one run and has a make target of its own) is left out.
func selectNames(found []sample, filter *regexp.Regexp) []string {
	var names []string
	for _, s := range found {
		if s.client() != "" && filter.MatchString(s.name) {
			names = append(names, s.name)
		}
	}
	return names
}

// leaves returns, sorted, the failed names that are not the parent of
// another failed name: go test reports "Get/serial" and "Get" failed when
// "Get/serial/respwire" did.
func leaves(failures map[string]string) []string {
	var names []string
	for name := range failures {
		parent := false
		for other := range failures {
			if strings.HasPrefix(other, name+"/") {
				parent = true
				break
			}
		}
		if !parent {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// byWorkload orders names so that each workload's are together, workloads in
// the order they first appear, keeping the order of names within one.
func byWorkload(names []string) []string {
	first := map[string]int{}
	for i, name := range names {
		workload, _ := splitName(name)
		if _, ok := first[workload]; !ok {
			first[workload] = i
		}
	}
	sorted := slices.Clone(names)
	slices.SortStableFunc(sorted, func(a, b string) int {
		wa, _ := splitName(a)
		wb, _ := splitName(b)
		return first[wa] - first[wb]
	})
	return sorted
}

// groupByWorkload groups names by workload, in order, leaving out the ones
// that failed their first run.
func groupByWorkload(names []string, failures map[string]string) [][]string {
	var groups [][]string
	index := map[string]int{}
	for _, name := range names {
		if _, failed := failures[name]; failed {
			continue
		}
		workload, _ := splitName(name)
		i, ok := index[workload]
		if !ok {
			i = len(groups)
			index[workload] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], name)
	}
	return groups
}

func writeOutputs(dir string, env environment, sum summary) error {
	results, err := os.Create(filepath.Join(dir, "RESULTS.md"))
	if err != nil {
		return err
	}
	if err := writeResults(results, env, sum); err != nil {
		results.Close()
		return err
	}
	if err := results.Close(); err != nil {
		return err
	}
	chart, err := os.Create(filepath.Join(dir, "ratios.svg"))
	if err != nil {
		return err
	}
	if err := writeChart(chart, sum); err != nil {
		chart.Close()
		return err
	}
	return chart.Close()
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05")+" "+format+"\n", args...)
}
