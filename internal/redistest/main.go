package redistest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Need names what a test package needs from Main.
type Need int

const (
	NeedServer     Need = 1 << iota // a standalone server: Server()
	NeedCluster                     // a 3-master, 3-replica cluster: Cluster()
	NeedTLSServer                   // a standalone server speaking only TLS: TLSServer()
	NeedTLSCluster                  // a 3+3 cluster speaking only TLS (bus and replication too): TLSCluster()
	NeedSentinel                    // a master, two replicas and three sentinels: Sentinel()
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
	server, tlsServer   *Node
	cluster, tlsCluster *TestCluster
	sentinel            *TestSentinel
}

// Main is the body of a package's TestMain. It starts what need names (or
// connects to REDIS_ADDR / REDIS_CLUSTER_ADDRS), runs the tests, stops every
// server the harness started, checks for leaked goroutines with goleak and
// exits. If a server cannot be started, no test runs and the binary exits
// with status 1 and a message saying why. Options are passed to goleak.
func Main(m *testing.M, need Need, opts ...goleak.Option) {
	goleak.VerifyTestMain(Setup(m, need), opts...)
}

// Setup wraps m for goleak.VerifyTestMain, for a TestMain that wants the leak
// check in plain sight:
//
//	func TestMain(m *testing.M) {
//		goleak.VerifyTestMain(redistest.Setup(m, redistest.NeedServer))
//	}
//
// Its Run starts what need names, runs the tests and stops every server, so
// the goroutines that watch the servers are gone before goleak looks.
func Setup(m *testing.M, need Need) goleak.TestingM {
	return runner{m: m, need: need}
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
	removeStaleDirs()
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

// startShared starts what need names, all at once.
func startShared(need Need) error {
	ctx, cancel := context.WithTimeout(context.Background(), mainStartTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var errs [5]error
	if need&NeedServer != 0 {
		wg.Go(func() { shared.server, errs[0] = startSharedServer(ctx, NodeOptions{}, EnvAddr) })
	}
	if need&NeedTLSServer != 0 {
		wg.Go(func() { shared.tlsServer, errs[1] = startSharedServer(ctx, NodeOptions{TLS: true}, "") })
	}
	if need&NeedCluster != 0 {
		wg.Go(func() { shared.cluster, errs[2] = startSharedCluster(ctx, ClusterOptions{}, EnvClusterAddrs) })
	}
	if need&NeedTLSCluster != 0 {
		wg.Go(func() { shared.tlsCluster, errs[3] = startSharedCluster(ctx, ClusterOptions{TLS: true}, "") })
	}
	if need&NeedSentinel != 0 {
		wg.Go(func() { shared.sentinel, errs[4] = startSharedSentinel(ctx) })
	}
	wg.Wait()
	return errors.Join(errs[:]...)
}

// startSharedServer starts a node, or wraps the server that env names.
func startSharedServer(ctx context.Context, opts NodeOptions, env string) (*Node, error) {
	start := time.Now()
	var n *Node
	var err error
	if addr := os.Getenv(env); env != "" && addr != "" {
		n, err = externalNode(ctx, addr)
	} else {
		n, err = startNode(ctx, opts)
	}
	if err != nil {
		return nil, err
	}
	logf("server %s (TLS %v) ready in %v", n.Addr, opts.TLS, time.Since(start).Round(time.Millisecond))
	return n, nil
}

// startSharedCluster starts a cluster, or wraps the one env names.
func startSharedCluster(ctx context.Context, opts ClusterOptions, env string) (*TestCluster, error) {
	start := time.Now()
	var c *TestCluster
	var err error
	if addrs := os.Getenv(env); env != "" && addrs != "" {
		c, err = externalCluster(ctx, strings.Split(addrs, ","))
	} else {
		c, err = StartCluster(ctx, opts)
	}
	if err != nil {
		return nil, err
	}
	logf("cluster %s (TLS %v) ready in %v", strings.Join(c.Addrs(), ","), opts.TLS, time.Since(start).Round(time.Millisecond))
	return c, nil
}

// Shutdown stops every server this process started through the harness and
// removes their directories. Main does it by itself; programs that use
// StartNode or StartCluster without Main (a benchmark driver, a tool) call it
// before they exit.
func Shutdown() error {
	err := stopAll()
	stopSpawner()
	return err
}

// teardown stops every server and checks that none survived; it returns the
// exit status it adds (0 or 1).
func teardown() int {
	code := 0
	if err := Shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if pids := leftoverServers(); len(pids) > 0 {
		fmt.Fprintf(os.Stderr, "redistest: redis-server processes %v survived teardown; killing them\n", pids)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		code = 1
	}
	shared.server, shared.tlsServer, shared.cluster, shared.tlsCluster = nil, nil, nil, nil
	shared.sentinel = nil
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

// TLSServer is the package's TLS-only standalone server; connect with its
// TLSConfig. It panics unless Main was given NeedTLSServer. REDIS_ADDR does
// not replace it.
func TLSServer() *Node {
	if shared.tlsServer == nil {
		panic("redistest: TLSServer() needs redistest.Main(m, redistest.NeedTLSServer) in TestMain")
	}
	return shared.tlsServer
}

// TLSCluster is the package's TLS-only cluster; connect with
// ClientTLSConfig. It panics unless Main was given NeedTLSCluster.
// REDIS_CLUSTER_ADDRS does not replace it.
func TLSCluster() *TestCluster {
	if shared.tlsCluster == nil {
		panic("redistest: TLSCluster() needs redistest.Main(m, redistest.NeedTLSCluster) in TestMain")
	}
	return shared.tlsCluster
}

// logf prints harness progress when the tests run with -v.
func logf(format string, args ...any) {
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "redistest: "+format+"\n", args...)
	}
}
