package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os/exec"
	"strconv"
)

// ceiling runs redis-benchmark with 16-command pipelines against addr and
// returns requests per second by test name ("GET", "SET"): what the server
// itself can do, the reference the parallel workloads are compared with.
func ceiling(ctx context.Context, addr string, requests int) (map[string]float64, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("benchtable: redis-benchmark address: %w", err)
	}
	cmd := exec.CommandContext(ctx, "redis-benchmark", "-h", host, "-p", port,
		"-P", "16", "-t", "get,set", "-d", "16", "-n", strconv.Itoa(requests), "--csv")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("benchtable: redis-benchmark: %w: %s", err, stderr.Bytes())
	}
	return parseCeiling(out)
}

// parseCeiling reads redis-benchmark's --csv output: a header naming the
// columns, then one row per test.
func parseCeiling(out []byte) (map[string]float64, error) {
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("benchtable: redis-benchmark output: %w", err)
	}
	if len(rows) < 2 || len(rows[0]) < 2 || rows[0][0] != "test" || rows[0][1] != "rps" {
		return nil, fmt.Errorf("benchtable: redis-benchmark output has no test,rps table: %q", out)
	}
	rates := make(map[string]float64, len(rows)-1)
	for _, row := range rows[1:] {
		if len(row) < 2 {
			return nil, fmt.Errorf("benchtable: short redis-benchmark row %q", row)
		}
		rps, err := strconv.ParseFloat(row[1], 64)
		if err != nil || rps <= 0 {
			return nil, fmt.Errorf("benchtable: redis-benchmark rate %q for %s", row[1], row[0])
		}
		rates[row[0]] = rps
	}
	return rates, nil
}
