package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WaitHealthy waits until every node and sentinel runs, every sentinel
// names the same master with no failover in progress, sees the other
// sentinels and at least one online replica whose link to the master is up,
// and the master reports at least one online replica. Then a
// SENTINEL FAILOVER finds a replica to promote, and a killed master is
// replaced by any two sentinels. It does not wait for every sentinel to list
// a demoted master as an online replica: after SENTINEL FAILOVER the old
// master stays a master until a sentinel's next INFO to it (every 10 s)
// finds it so and reconfigures it (+convert-to-slave). Reset waits for that.
func (s *TestSentinel) WaitHealthy(ctx context.Context) error {
	for _, n := range append(append([]*Node(nil), s.Nodes...), s.Sentinels...) {
		if !n.Running() {
			return fmt.Errorf("redistest: sentinel deployment: %s is not running", n)
		}
	}
	return poll(ctx, func(ctx context.Context) error {
		addrs := make([]string, len(s.Sentinels))
		err := eachNode(s.Sentinels, func(i int, sn *Node) (err error) {
			addrs[i], err = s.sentinelHealthy(ctx, sn)
			return err
		})
		if err != nil {
			return err
		}
		for _, addr := range addrs[1:] {
			if addr != addrs[0] {
				return fmt.Errorf("sentinels disagree on the master: %v", addrs)
			}
		}
		master := s.Node(addrs[0])
		if master == nil {
			return fmt.Errorf("sentinels name an unknown master %s", addrs[0])
		}
		return s.replicationHealthy(ctx, master, 1)
	})
}

// sentinelHealthy checks one sentinel's view and returns the master it
// names.
func (s *TestSentinel) sentinelHealthy(ctx context.Context, sn *Node) (string, error) {
	v, err := sn.Do(ctx, "SENTINEL", "MASTER", s.MasterName)
	if err != nil {
		return "", err
	}
	m := sentinelFields(v)
	if m["flags"] != "master" {
		return "", fmt.Errorf("sentinel %s: master flags %q", sn, m["flags"])
	}
	if want := strconv.Itoa(len(s.Sentinels) - 1); m["num-other-sentinels"] != want {
		return "", fmt.Errorf("sentinel %s knows %s other sentinels, want %s", sn, m["num-other-sentinels"], want)
	}
	addr := net.JoinHostPort(m["ip"], m["port"])
	v, err = sn.Do(ctx, "SENTINEL", "SENTINELS", s.MasterName)
	if err != nil {
		return "", err
	}
	for _, e := range v.Elems() {
		if f := sentinelFields(e); f["flags"] != "sentinel" {
			return "", fmt.Errorf("sentinel %s sees sentinel %s:%s as %q", sn, f["ip"], f["port"], f["flags"])
		}
	}
	v, err = sn.Do(ctx, "SENTINEL", "REPLICAS", s.MasterName)
	if err != nil {
		return "", err
	}
	online := 0
	for _, e := range v.Elems() {
		f := sentinelFields(e)
		if f["flags"] == "slave" && f["master-link-status"] == "ok" &&
			net.JoinHostPort(f["master-host"], f["master-port"]) == addr {
			online++
		}
	}
	if online == 0 {
		return "", fmt.Errorf("sentinel %s sees no online replica of %s", sn, addr)
	}
	return addr, nil
}

// replicationHealthy checks that master is a master with at least want
// online replicas.
func (s *TestSentinel) replicationHealthy(ctx context.Context, master *Node, want int) error {
	info, err := master.Info(ctx, "replication")
	if err != nil {
		return err
	}
	if info["role"] != "master" {
		return fmt.Errorf("%s reports role %q", master, info["role"])
	}
	online := 0
	for k, v := range info {
		if strings.HasPrefix(k, "slave") && strings.Contains(v, "state=online") {
			online++
		}
	}
	if online < want {
		return fmt.Errorf("%s has %d online replicas, want %d", master, online, want)
	}
	return nil
}

// waitReplication waits until master has every other node online as its
// replica.
func (s *TestSentinel) waitReplication(ctx context.Context, master *Node) error {
	return poll(ctx, func(ctx context.Context) error {
		return s.replicationHealthy(ctx, master, len(s.Nodes)-1)
	})
}

// resetTimeout bounds Reset, whatever the caller's deadline.
const resetTimeout = 2 * time.Minute

// Reset undoes the faults of a test, for its Cleanup: it resumes paused
// nodes and sentinels, restarts killed sentinels, restarts killed data nodes
// as replicas of the current master, and waits until every other node is an
// online replica of the master and the deployment is healthy. The master
// stays whichever node it is now.
func (s *TestSentinel) Reset(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, resetTimeout)
	defer cancel()
	for _, sn := range s.Sentinels {
		if err := sn.revive(ctx); err != nil {
			return err
		}
	}
	for _, n := range s.Nodes {
		n.mu.Lock()
		paused := n.paused && n.proc != nil
		n.mu.Unlock()
		if paused {
			if err := n.Resume(); err != nil {
				return err
			}
		}
	}
	var master *Node
	err := poll(ctx, func(ctx context.Context) (err error) {
		master, err = s.Master(ctx)
		if err == nil && !master.Running() {
			err = fmt.Errorf("the sentinels still name %s, which is down", master)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, n := range s.Nodes {
		if n.Running() {
			continue
		}
		// Killed while it was a master, its config still says so.
		line := "\nreplicaof 127.0.0.1 " + strconv.Itoa(master.Port) + "\n"
		if err := appendFile(filepath.Join(n.dir, configFile), line); err != nil {
			return err
		}
		if err := n.Restart(ctx); err != nil {
			return err
		}
	}
	// Ask who the master is at every check: on a loaded machine the
	// sentinels may fail over again meanwhile (a master that stalls longer
	// than DownAfter, forking for a full sync, is replaced).
	err = poll(ctx, func(ctx context.Context) error {
		m, err := s.Master(ctx)
		if err != nil {
			return err
		}
		return s.replicationHealthy(ctx, m, len(s.Nodes)-1)
	})
	if err != nil {
		return err
	}
	return s.WaitHealthy(ctx)
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}
