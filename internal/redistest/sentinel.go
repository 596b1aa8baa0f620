package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/respwire/respwire/resp"
)

// SentinelOptions configures a deployment started by StartSentinel.
type SentinelOptions struct {
	// MasterName is the name the sentinels monitor the master under;
	// "mymaster" when empty.
	MasterName string
	// Password is the requirepass of the master and replicas (and their
	// masterauth); the sentinels authenticate with it (sentinel auth-pass).
	Password string
	// SentinelPassword is the requirepass of the sentinels themselves
	// (sentinel sentinel-pass, so they can talk to each other).
	SentinelPassword string
	// DownAfter is the sentinels' down-after-milliseconds: how long a
	// silent master takes to be seen down. 0 means DefaultDownAfter.
	DownAfter time.Duration
	// TLS makes every node and sentinel accept TLS connections only
	// (replication and the sentinels' own connections too); clients
	// connect with ClientTLSConfig.
	TLS bool
	// FailoverTimeout is the sentinels' failover-timeout. 0 means
	// DefaultFailoverTimeout. A sentinel that started or voted for a
	// failover does not start another for twice this long, so after a split
	// vote a killed master is replaced that much later.
	FailoverTimeout time.Duration
}

// Sentinel timings of the harness's deployments, short so that a killed
// master is replaced within a few seconds.
const (
	DefaultDownAfter       = time.Second
	DefaultFailoverTimeout = 3 * time.Second
)

// TestSentinel is a Sentinel-managed deployment: a master and two replicas
// (Nodes, in the order they were started: the first was the master) and
// three sentinels (Sentinels) that monitor it under MasterName with quorum 2.
// Roles change with failovers: Master asks the sentinels each time.
type TestSentinel struct {
	MasterName string
	Nodes      []*Node // the data nodes; Nodes[0] was the first master
	Sentinels  []*Node

	opts SentinelOptions
	mu   sync.Mutex // serialises Reset's edits of a killed node's config
}

// StartSentinel starts a master, two replicas and three sentinels on free
// loopback ports, and returns once every sentinel sees the other two, both
// replicas online and the same master (WaitHealthy). Stop it when done;
// Main's teardown stops it otherwise.
func StartSentinel(ctx context.Context, opts SentinelOptions) (*TestSentinel, error) {
	ctx, cancel := withDefaultTimeout(ctx, mainStartTimeout)
	defer cancel()
	if opts.MasterName == "" {
		opts.MasterName = "mymaster"
	}
	if opts.DownAfter <= 0 {
		opts.DownAfter = DefaultDownAfter
	}
	if opts.FailoverTimeout <= 0 {
		opts.FailoverTimeout = DefaultFailoverTimeout
	}
	s := &TestSentinel{MasterName: opts.MasterName, opts: opts}
	fail := func(err error) (*TestSentinel, error) {
		s.Stop()
		return nil, err
	}
	var tlsReplication []string
	if opts.TLS {
		tlsReplication = []string{"tls-replication yes"}
	}
	master, err := startNode(ctx, NodeOptions{Password: opts.Password, TLS: opts.TLS, Config: tlsReplication})
	if err != nil {
		return fail(err)
	}
	s.Nodes = append(s.Nodes, master)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			n, err := startNode(ctx, NodeOptions{Password: opts.Password, TLS: opts.TLS, Config: append(tlsReplication,
				"replicaof 127.0.0.1 "+strconv.Itoa(master.Port),
			)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			s.Nodes = append(s.Nodes, n)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	// A sentinel finds replicas in the master's INFO, asked as soon as it
	// connects and then every 10 s: have them online before it asks.
	if err := s.waitReplication(ctx, master); err != nil {
		return fail(err)
	}
	for range 3 {
		wg.Go(func() {
			n, err := startNode(ctx, NodeOptions{Sentinel: true, TLS: opts.TLS, Password: opts.SentinelPassword, Config: s.sentinelConfig(master)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			s.Sentinels = append(s.Sentinels, n)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	if err := s.WaitHealthy(ctx); err != nil {
		return fail(err)
	}
	return s, nil
}

// NewSentinel starts a deployment for one test and stops it when the test
// ends.
func NewSentinel(t testing.TB, opts SentinelOptions) *TestSentinel {
	t.Helper()
	s, err := StartSentinel(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// sentinelConfig is what a sentinel's config file says about master.
func (s *TestSentinel) sentinelConfig(master *Node) []string {
	name := s.opts.MasterName
	lines := []string{
		"sentinel resolve-hostnames yes",
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", name, master.Port),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", name, s.opts.DownAfter.Milliseconds()),
		fmt.Sprintf("sentinel failover-timeout %s %d", name, s.opts.FailoverTimeout.Milliseconds()),
		fmt.Sprintf("sentinel parallel-syncs %s 2", name),
	}
	if s.opts.Password != "" {
		lines = append(lines, fmt.Sprintf("sentinel auth-pass %s %s", name, quoteConfig(s.opts.Password)))
	}
	if s.opts.SentinelPassword != "" {
		lines = append(lines, "sentinel sentinel-pass "+quoteConfig(s.opts.SentinelPassword))
	}
	return lines
}

// SentinelAddrs are the sentinels' addresses.
func (s *TestSentinel) SentinelAddrs() []string {
	addrs := make([]string, len(s.Sentinels))
	for i, n := range s.Sentinels {
		addrs[i] = n.Addr
	}
	return addrs
}

// Node returns the data node at addr, or nil.
func (s *TestSentinel) Node(addr string) *Node {
	for _, n := range s.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// Master asks the running sentinels, one after the other, for the master's
// address and returns its node.
func (s *TestSentinel) Master(ctx context.Context) (*Node, error) {
	var errs []error
	for _, sn := range s.Sentinels {
		if !sn.Running() {
			continue
		}
		addr, err := s.masterAddr(ctx, sn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n := s.Node(addr); n != nil {
			return n, nil
		}
		errs = append(errs, fmt.Errorf("redistest: sentinel %s names an unknown master %s", sn, addr))
	}
	if len(errs) == 0 {
		return nil, errors.New("redistest: no sentinel is running")
	}
	return nil, errors.Join(errs...)
}

// Replicas returns the data nodes other than the master the sentinels name.
func (s *TestSentinel) Replicas(ctx context.Context) ([]*Node, error) {
	m, err := s.Master(ctx)
	if err != nil {
		return nil, err
	}
	var replicas []*Node
	for _, n := range s.Nodes {
		if n != m {
			replicas = append(replicas, n)
		}
	}
	return replicas, nil
}

// masterAddr asks one sentinel for the master's address.
func (s *TestSentinel) masterAddr(ctx context.Context, sn *Node) (string, error) {
	v, err := sn.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterName)
	if err != nil {
		return "", err
	}
	e := v.Elems()
	if len(e) != 2 {
		return "", fmt.Errorf("redistest: sentinel %s: no address for %s", sn, s.MasterName)
	}
	host, _ := e[0].Text()
	port, _ := e[1].Text()
	return net.JoinHostPort(host, port), nil
}

// StartFailover sends SENTINEL FAILOVER to the first running sentinel and
// returns without waiting: the caller watches the switch happen (Failover
// waits for it).
func (s *TestSentinel) StartFailover(ctx context.Context) error {
	if sn := s.firstRunningSentinel(); sn != nil {
		_, err := sn.Do(ctx, "SENTINEL", "FAILOVER", s.MasterName)
		return err
	}
	return errors.New("redistest: no sentinel is running")
}

// Failover forces a failover with SENTINEL FAILOVER and returns the new
// master once every running sentinel names it and the deployment is healthy
// again. A sentinel gives a failover up when the replica it promotes has not
// reported its new role within failover-timeout (-failover-abort-slave-timeout),
// which a loaded machine can make happen; the old master then stays. Failover
// sends SENTINEL FAILOVER again when that sentinel has no failover in
// progress any more and still names old.
func (s *TestSentinel) Failover(ctx context.Context) (*Node, error) {
	old, err := s.Master(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.StartFailover(ctx); err != nil {
		return nil, err
	}
	err = poll(ctx, func(ctx context.Context) error {
		err := s.switchedFrom(ctx, old)
		if err != nil && s.failoverGivenUp(ctx, old) {
			if again := s.StartFailover(ctx); again != nil {
				return fmt.Errorf("%w; SENTINEL FAILOVER again: %w", err, again)
			}
		}
		return err
	})
	if err == nil && old.Running() {
		err = s.WaitHealthy(ctx)
	}
	if err != nil {
		return nil, err
	}
	return s.Master(ctx)
}

// failoverGivenUp reports whether the sentinel StartFailover asks still
// names old with no failover in progress.
func (s *TestSentinel) failoverGivenUp(ctx context.Context, old *Node) bool {
	sn := s.firstRunningSentinel()
	if sn == nil {
		return false
	}
	v, err := sn.Do(ctx, "SENTINEL", "MASTER", s.MasterName)
	if err != nil {
		return false
	}
	m := sentinelFields(v)
	return net.JoinHostPort(m["ip"], m["port"]) == old.Addr && !strings.Contains(m["flags"], "failover_in_progress")
}

func (s *TestSentinel) firstRunningSentinel() *Node {
	for _, sn := range s.Sentinels {
		if sn.Running() {
			return sn
		}
	}
	return nil
}

// KillMaster kills the current master with SIGKILL and returns it. The
// sentinels replace it after DownAfter and an election; WaitSwitched waits
// for that, Reset restarts the killed node as a replica.
func (s *TestSentinel) KillMaster(ctx context.Context) (*Node, error) {
	m, err := s.Master(ctx)
	if err != nil {
		return nil, err
	}
	return m, m.Kill()
}

// WaitSwitched waits until every running sentinel names a master other than
// old, then until the deployment is healthy (WaitHealthy, which needs old
// running again if it was killed: use Reset then).
func (s *TestSentinel) WaitSwitched(ctx context.Context, old *Node) error {
	err := poll(ctx, func(ctx context.Context) error { return s.switchedFrom(ctx, old) })
	if err != nil || !old.Running() {
		return err
	}
	return s.WaitHealthy(ctx)
}

// switchedFrom checks that every running sentinel names a master other
// than old.
func (s *TestSentinel) switchedFrom(ctx context.Context, old *Node) error {
	return eachNode(s.runningSentinels(), func(_ int, sn *Node) error {
		addr, err := s.masterAddr(ctx, sn)
		if err != nil {
			return err
		}
		if addr == old.Addr {
			return fmt.Errorf("sentinel %s still names %s", sn, addr)
		}
		return nil
	})
}

func (s *TestSentinel) runningSentinels() []*Node {
	var running []*Node
	for _, sn := range s.Sentinels {
		if sn.Running() {
			running = append(running, sn)
		}
	}
	return running
}

// Stop stops every node and sentinel.
func (s *TestSentinel) Stop() {
	var wg sync.WaitGroup
	for _, n := range append(append([]*Node(nil), s.Nodes...), s.Sentinels...) {
		wg.Go(func() { n.Stop() })
	}
	wg.Wait()
}

// sentinelFields turns one sentinel reply of alternating names and values
// (a RESP2 array or a RESP3 map) into a map.
func sentinelFields(v resp.Value) map[string]string {
	e := v.Elems()
	m := make(map[string]string, len(e)/2)
	for i := 0; i+1 < len(e); i += 2 {
		k, _ := e[i].Text()
		val, _ := e[i+1].Text()
		m[k] = val
	}
	return m
}

// startSharedSentinel starts the package's Sentinel deployment.
func startSharedSentinel(ctx context.Context) (*TestSentinel, error) {
	start := time.Now()
	s, err := StartSentinel(ctx, SentinelOptions{})
	if err != nil {
		return nil, err
	}
	logf("sentinel deployment %s (sentinels %s) ready in %v", s.Nodes[0].Addr,
		strings.Join(s.SentinelAddrs(), ","), time.Since(start).Round(time.Millisecond))
	return s, nil
}

// Sentinel is the package's Sentinel deployment. It panics unless Main was
// given NeedSentinel. Tests share it: a test that kills or pauses nodes
// calls Reset in its Cleanup; failovers need no undoing (the master is
// whichever node Master names).
func Sentinel() *TestSentinel {
	if shared.sentinel == nil {
		panic("redistest: Sentinel() needs redistest.Main(m, redistest.NeedSentinel) in TestMain")
	}
	return shared.sentinel
}
