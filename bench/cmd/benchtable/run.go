package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runTimeout bounds one run of the test binary: one benchmark, one client.
const runTimeout = 5 * time.Minute

// buildBinary compiles the bench package's benchmarks once, into dir.
func buildBinary(ctx context.Context, moduleDir, dir string) (string, error) {
	binary := filepath.Join(dir, "bench.test")
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", binary, ".")
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("benchtable: go test -c: %w\n%s", err, out)
	}
	return binary, nil
}

// runner runs the compiled benchmarks against servers that are already up.
type runner struct {
	binary    string
	moduleDir string
	env       []string  // REDIS_ADDR and REDIS_CLUSTER_ADDRS
	raw       io.Writer // every run's output, for benchstat
}

// run runs the benchmarks that pattern selects for benchtime and returns
// what they printed. A benchmark that failed is in failures, by name, with
// the first line of its message. err says the run as a whole went wrong
// (it exited non-zero with no failed benchmark, or its output was garbled);
// the samples it printed before are still returned.
func (r *runner) run(ctx context.Context, pattern, benchtime string) (samples []sample, failures map[string]string, err error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.binary,
		"-test.run", "^$", "-test.bench", pattern, "-test.benchtime", benchtime,
		"-test.count", "1", "-test.timeout", runTimeout.String())
	cmd.Dir = r.moduleDir
	cmd.Env = append(os.Environ(), r.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if _, err := r.raw.Write(stdout.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("benchtable: raw output: %w", err)
	}
	samples, err = parseOutput(stdout.String())
	failures = parseFailures(stdout.String())
	if err != nil {
		return samples, failures, err
	}
	if runErr != nil && len(failures) == 0 {
		return samples, nil, fmt.Errorf("benchtable: %s -test.bench %s: %w\n%s%s",
			filepath.Base(r.binary), pattern, runErr, tail(stdout.String(), 20), tail(stderr.String(), 20))
	}
	return samples, failures, nil
}

// parseFailures finds "--- FAIL: BenchmarkX/y/z" lines and the first line of
// the message under each.
func parseFailures(out string) map[string]string {
	failures := map[string]string{}
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- FAIL: Benchmark")
		if !ok {
			continue
		}
		name = procsSuffix.ReplaceAllString(name, "")
		why := "see bench/results/raw.txt"
		if i+1 < len(lines) {
			next := strings.TrimSpace(lines[i+1])
			if strings.HasPrefix(lines[i+1], "    ") && !strings.HasPrefix(next, "--- ") {
				why = next
			}
		}
		failures[name] = why
	}
	return failures
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}
