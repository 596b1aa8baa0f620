package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// NodeOptions configures a node started by StartNode.
type NodeOptions struct {
	// Password sets requirepass (and masterauth, for cluster replicas). The
	// node's Do authenticates with it.
	Password string
	// TLS makes the node accept TLS connections only, with a certificate for
	// 127.0.0.1 and localhost signed by the harness CA (see ClientTLSConfig).
	// Client certificates are optional and verified when given.
	TLS bool
	// Cluster enables cluster mode with the harness's short node timeout.
	// The node owns no slots and knows no other node.
	Cluster bool
	// Config holds extra redis.conf directives, one per entry, written after
	// the harness's own: "maxmemory 10mb", "notify-keyspace-events KEA".
	Config []string
	// Sentinel runs the node as a Redis Sentinel (redis-server --sentinel).
	// Config then holds its "sentinel ..." directives; Password becomes the
	// sentinel's requirepass. With TLS it also speaks TLS to the nodes it
	// monitors. Cluster must be false.
	Sentinel bool
}

// Node is one redis-server. A node made by the harness owns a process and a
// temporary directory; a node given by REDIS_ADDR or REDIS_CLUSTER_ADDRS
// does not, and its process helpers (Kill, Restart, Pause, Resume) return
// ErrExternal. Methods are safe for concurrent use.
type Node struct {
	Addr string // "127.0.0.1:port"; dial it
	Port int
	ID   string // cluster node ID (stays the same across Restart); empty outside a cluster

	opts      NodeOptions
	dir       string
	busPort   int
	external  bool
	tlsConfig *tls.Config // client side, for TLS nodes

	restartMu sync.Mutex // held through a Restart

	mu      sync.Mutex
	proc    *process // nil once killed or stopped
	paused  bool
	stopped bool
}

// ErrExternal is returned by the helpers that need a process when the node
// is an existing server named by REDIS_ADDR or REDIS_CLUSTER_ADDRS.
var ErrExternal = errors.New("redistest: node is an external server (REDIS_ADDR / REDIS_CLUSTER_ADDRS): it has no process to control")

// startTimeout bounds starting or restarting one node when the caller gives
// no deadline.
const startTimeout = 30 * time.Second

// StartNode starts a redis-server on a free loopback port and waits until it
// answers PING. Stop it when done (NewNode does that for a test); Main's
// teardown stops any node still running.
func StartNode(opts NodeOptions) (*Node, error) {
	return startNode(context.Background(), opts)
}

// NewNode starts a node for one test and stops it when the test ends.
func NewNode(t testing.TB, opts NodeOptions) *Node {
	t.Helper()
	n, err := StartNode(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
	})
	return n
}

func startNode(ctx context.Context, opts NodeOptions) (*Node, error) {
	ctx, cancel := withDefaultTimeout(ctx, startTimeout)
	defer cancel()
	bin, err := serverBinary()
	if err != nil {
		return nil, err
	}
	dir, err := makeDir()
	if err != nil {
		return nil, err
	}
	n := &Node{opts: opts, dir: dir}
	track(n)
	const attempts = 10
	for attempt := 1; ; attempt++ {
		if err = n.pickPorts(); err == nil {
			err = n.launch(ctx, bin)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, errPortInUse) || attempt == attempts {
			n.Stop()
			return nil, err
		}
	}
	if opts.Cluster {
		id, err := n.text(ctx, "CLUSTER", "MYID")
		if err != nil {
			n.Stop()
			return nil, err
		}
		n.ID = id
	}
	return n, nil
}

// pickPort returns the port for a node to try; tests replace it to make a
// port be taken between the pick and the bind.
var pickPort = FreePort

// pickPorts gives the node fresh ports (a fresh bus port too: after a failed
// start either may be the one taken) and writes its configuration.
func (n *Node) pickPorts() error {
	port, err := pickPort()
	if err != nil {
		return err
	}
	n.Port = port
	n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	n.busPort = 0
	if n.opts.Cluster {
		if n.busPort, err = pickPort(); err != nil {
			return err
		}
	}
	return n.writeConfig()
}

// Dir is the node's working directory (redis.conf, redis.log, nodes.conf).
func (n *Node) Dir() string { return n.dir }

// TLSConfig returns a client configuration for this node (trusting the
// harness CA, presenting a client certificate), or nil if it does not use
// TLS. Each call returns a new copy.
func (n *Node) TLSConfig() *tls.Config {
	if n.tlsConfig == nil {
		return nil
	}
	return n.tlsConfig.Clone()
}

// Password is the node's requirepass, empty if none.
func (n *Node) Password() string { return n.opts.Password }

// PID is the server's process ID, 0 when it is not running or external.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return 0
	}
	return n.proc.cmd.Process.Pid
}

// Running reports whether the node's process runs and is not paused.
// External nodes always count as running.
func (n *Node) Running() bool {
	if n.external {
		return true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil && !n.paused && !n.proc.hasExited()
}

func (n *Node) String() string {
	if n.ID != "" {
		return n.Addr + " (" + n.ID[:min(8, len(n.ID))] + ")"
	}
	return n.Addr
}
