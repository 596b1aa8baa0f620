package redistest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Need names what a test package needs from Main.
type Need int

const (
	NeedServer  Need = 1 << iota // a standalone server: Server()
	NeedCluster                  // a 3-master, 3-replica cluster: Cluster()
)

// Environment variables naming existing servers to use instead of starting
// new ones.
const (
	EnvAddr         = "REDIS_ADDR"          // host:port of a standalone server
	EnvClusterAddrs = "REDIS_CLUSTER_ADDRS" // host:port,host:port,... of every cluster node
)

// mainStartTimeout bounds starting what Main was asked for.
const mainStartTimeout = 2 * time.Minute

var shared struct {
	server  *Node
	cluster *TestCluster
}

// Main is the body of a package's TestMain. It starts what need names (or
// connects to REDIS_ADDR / REDIS_CLUSTER_ADDRS), runs the tests, stops every
// server the harness started, checks for leaked goroutines with goleak and
// exits. If a server cannot be started, no test runs and the binary exits
// with status 1 and a message saying why. Options are passed to goleak.
func Main(m *testing.M, need Need, opts ...goleak.Option) {
	goleak.VerifyTestMain(runner{m: m, need: need}, opts...)
}

// runner wraps testing.M so that servers are up before the tests run and
// gone, with the goroutines that watch them, before goleak looks.
type runner struct {
	m    *testing.M
	need Need
}

func (r runner) Run() (code int) {
	if !flag.Parsed() {
		flag.Parse()
	}
	stopSignals := killOnSignal()
	defer func() {
		code = max(code, teardown())
		stopSignals()
	}()
	if err := startShared(r.need); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return r.m.Run()
}

func startShared(need Need) error {
	ctx, cancel := context.WithTimeout(context.Background(), mainStartTimeout)
	defer cancel()
	if need&NeedServer != 0 {
		start := time.Now()
		n, err := sharedServer(ctx)
		if err != nil {
			return err
		}
		shared.server = n
		logf("standalone server %s ready in %v", n.Addr, time.Since(start).Round(time.Millisecond))
	}
	if need&NeedCluster != 0 {
		start := time.Now()
		c, err := sharedCluster(ctx)
		if err != nil {
			return err
		}
		shared.cluster = c
		logf("cluster %s ready in %v", strings.Join(c.Addrs(), ","), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func sharedServer(ctx context.Context) (*Node, error) {
	if addr := os.Getenv(EnvAddr); addr != "" {
		return externalNode(ctx, addr)
	}
	return startNode(ctx, NodeOptions{})
}

func sharedCluster(ctx context.Context) (*TestCluster, error) {
	if addrs := os.Getenv(EnvClusterAddrs); addrs != "" {
		return externalCluster(ctx, strings.Split(addrs, ","))
	}
	return StartCluster(ctx, ClusterOptions{})
}

// teardown stops every server and checks that none survived; it returns the
// exit status it adds (0 or 1).
func teardown() int {
	code := 0
	if err := stopAll(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	stopSpawner()
	if pids := leftoverServers(); len(pids) > 0 {
		fmt.Fprintf(os.Stderr, "redistest: redis-server processes %v survived teardown; killing them\n", pids)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		code = 1
	}
	shared.server, shared.cluster = nil, nil
	return code
}

// killOnSignal stops every server when the binary is interrupted (SIGINT,
// SIGTERM), then lets the signal take its default course. It returns a
// function that undoes it.
func killOnSignal() (stop func()) {
	signals := make(chan os.Signal, 1)
	done := make(chan struct{})
	exited := make(chan struct{})
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		defer close(exited)
		select {
		case sig := <-signals:
			stopAll()
			signal.Reset(sig)
			if s, ok := sig.(syscall.Signal); ok {
				syscall.Kill(os.Getpid(), s)
			}
		case <-done:
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
		<-exited
	}
}

// Server is the package's standalone server. It panics unless Main was
// given NeedServer.
func Server() *Node {
	if shared.server == nil {
		panic("redistest: Server() needs redistest.Main(m, redistest.NeedServer) in TestMain")
	}
	return shared.server
}

// Cluster is the package's cluster. It panics unless Main was given
// NeedCluster. Tests share it: a test that moves slots, fails over or kills
// nodes must leave it healthy (WaitHealthy) for the next one.
func Cluster() *TestCluster {
	if shared.cluster == nil {
		panic("redistest: Cluster() needs redistest.Main(m, redistest.NeedCluster) in TestMain")
	}
	return shared.cluster
}

// logf prints harness progress when the tests run with -v.
func logf(format string, args ...any) {
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "redistest: "+format+"\n", args...)
	}
}
