package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Every node the harness starts is tracked until it is stopped, so that
// teardown can stop whatever a test forgot.
var registry struct {
	mu    sync.Mutex
	nodes map[*Node]struct{}
	dirs  []string // other temporary directories (certificates)
}

func track(n *Node) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.nodes == nil {
		registry.nodes = make(map[*Node]struct{})
	}
	registry.nodes[n] = struct{}{}
}

func untrack(n *Node) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	delete(registry.nodes, n)
}

func trackDir(dir string) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.dirs = append(registry.dirs, dir)
}

// stopAll stops every tracked node and removes the harness's directories.
func stopAll() error {
	registry.mu.Lock()
	nodes := make([]*Node, 0, len(registry.nodes))
	for n := range registry.nodes {
		nodes = append(nodes, n)
	}
	dirs := registry.dirs
	registry.dirs = nil
	registry.mu.Unlock()

	var errs []string
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, n := range nodes {
		wg.Go(func() {
			if err := n.Stop(); err != nil {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, dir := range dirs {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err.Error())
		}
	}
	resetCerts()
	if len(errs) > 0 {
		return fmt.Errorf("redistest: teardown: %s", strings.Join(errs, "; "))
	}
	return nil
}

// leftoverServers lists redis-server processes whose parent is this process
// (Linux only: it reads /proc; elsewhere it finds none).
func leftoverServers() []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	self := os.Getpid()
	var pids []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process went away
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at the last ')'.
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		comm := s[open+1 : end]
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 || !strings.HasPrefix(comm, "redis-server") {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
			pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
			pids = append(pids, pid)
		}
	}
	return pids
}
