package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// sample is one benchmark line of `go test -bench` output.
type sample struct {
	name        string // "Get/parallel/respwire": no "Benchmark" prefix, no -GOMAXPROCS suffix
	iterations  int64
	nsPerOp     float64
	bytesPerOp  float64
	allocsPerOp float64
	metrics     map[string]float64 // every other "value unit" pair: "MB/s", "msgs/s"
}

// workload is the name without its last element, the client.
func (s sample) workload() string {
	w, _ := splitName(s.name)
	return w
}

func (s sample) client() string {
	_, c := splitName(s.name)
	return c
}

func splitName(name string) (workload, client string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i+1:]
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseLine reads one line of benchmark output. ok is false for every line
// that is not a benchmark result (headers, logs, PASS, ...).
func parseLine(line string) (s sample, ok bool, err error) {
	fields := strings.Fields(line)
	if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
		return sample{}, false, nil
	}
	iterations, convErr := strconv.ParseInt(fields[1], 10, 64)
	if convErr != nil {
		return sample{}, false, nil // "BenchmarkX ... --- FAIL" and similar
	}
	s = sample{
		name:       procsSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), ""),
		iterations: iterations,
		metrics:    map[string]float64{},
	}
	pairs := fields[2:]
	if len(pairs)%2 != 0 {
		return sample{}, false, fmt.Errorf("benchtable: odd number of value/unit fields in %q", line)
	}
	seenNs := false
	for i := 0; i < len(pairs); i += 2 {
		v, convErr := strconv.ParseFloat(pairs[i], 64)
		if convErr != nil {
			return sample{}, false, fmt.Errorf("benchtable: bad value %q in %q", pairs[i], line)
		}
		switch unit := pairs[i+1]; unit {
		case "ns/op":
			s.nsPerOp, seenNs = v, true
		case "B/op":
			s.bytesPerOp = v
		case "allocs/op":
			s.allocsPerOp = v
		default:
			s.metrics[unit] = v
		}
	}
	if !seenNs || s.nsPerOp <= 0 {
		return sample{}, false, fmt.Errorf("benchtable: no positive ns/op in %q", line)
	}
	return s, true, nil
}

// parseOutput returns every benchmark line of out, in order.
func parseOutput(out string) ([]sample, error) {
	var samples []sample
	for _, line := range strings.Split(out, "\n") {
		s, ok, err := parseLine(line)
		if err != nil {
			return samples, err
		}
		if ok {
			samples = append(samples, s)
		}
	}
	return samples, nil
}

// benchPattern is the -test.bench argument that selects exactly name: each
// element anchored and quoted, so "goredis" does not also pick
// "goredis-autopipeline".
func benchPattern(name string) string {
	parts := strings.Split("Benchmark"+name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
