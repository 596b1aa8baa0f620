package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// describeEnvironment records what the figures depend on. Anything it cannot
// find out reads "unknown".
func describeEnvironment(cfg config) environment {
	return environment{
		date:         time.Now().UTC().Format("2006-01-02 15:04 MST"),
		cpu:          cpuModel(),
		cores:        runtime.NumCPU(),
		goVersion:    runtime.Version(),
		redisVersion: redisVersion(),
		load:         loadAverage(),
		rounds:       cfg.rounds,
		benchtime:    cfg.benchtime,
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if key, value, ok := strings.Cut(scanner.Text(), ":"); ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

// redisVersion reads "v=7.0.15" from `redis-server --version`.
func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "Redis unknown"
	}
	for _, field := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(field, "v="); ok {
			return "Redis " + v
		}
	}
	return "Redis unknown"
}

// loadAverage is the 1, 5 and 15 minute load average (Linux).
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}
