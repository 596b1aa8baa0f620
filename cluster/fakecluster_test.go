package cluster

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// fakeCluster is a cluster of fake servers that answer CLUSTER SHARDS with
// a topology the test sets (and may change), COMMAND with a small pre-7.0
// table (GET, SET, INCR, MGET, DEL, MSET, DBSIZE, KEYS, SCRIPT: key
// positions, no tips), GET with the answering node's address and
// everything else a test hands to a node's handler. Its nodes can be
// addresses where nothing listens, for nodes that are down.
type fakeCluster struct {
	t     *testing.T
	mu    sync.Mutex
	shard []fakeShard // guarded by mu
	nodes map[string]*fakeClusterNode
	asked atomic.Int64 // CLUSTER SHARDS answered
}

// fakeShard is one shard of a fakeCluster's topology.
type fakeShard struct {
	master   string // address
	health   string // of the master: "online" when empty
	ranges   [][2]int
	replicas []string // online replicas' addresses
}

// fakeClusterNode is one listening node of a fakeCluster.
type fakeClusterNode struct {
	server *fakeserver.Server
	addr   string
	// handle, when set, serves the commands the fake doesn't answer itself
	// (and GET); it returns false to let the fake answer.
	handle atomic.Pointer[func(c *fakeserver.Conn, cmd []string) bool]
	gets   atomic.Int64
}

// newFakeCluster starts n listening fake nodes.
func newFakeCluster(t *testing.T, n int) *fakeCluster {
	fc := &fakeCluster{t: t, nodes: make(map[string]*fakeClusterNode)}
	for range n {
		node := &fakeClusterNode{server: fakeserver.Start(t)}
		node.addr = node.server.Addr()
		fc.nodes[node.addr] = node
		node.server.Handle(func(c *fakeserver.Conn, cmd []string) { fc.serve(node, c, cmd) })
	}
	return fc
}

// addrs returns the listening nodes' addresses, sorted.
func (fc *fakeCluster) addrs() []string {
	var list []string
	for a := range fc.nodes {
		list = append(list, a)
	}
	slices.Sort(list)
	return list
}

// deadAddr returns a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	port, err := redistest.FreePort()
	require.NoError(t, err)
	return "127.0.0.1:" + strconv.Itoa(port)
}

// setTopology replaces the topology the nodes report.
func (fc *fakeCluster) setTopology(shards ...fakeShard) {
	fc.mu.Lock()
	fc.shard = shards
	fc.mu.Unlock()
}

// onCommand sets the handler of the node at addr.
func (fc *fakeCluster) onCommand(addr string, h func(c *fakeserver.Conn, cmd []string) bool) {
	fc.nodes[addr].handle.Store(&h)
}

// client connects a Client to the fake cluster through its first node.
func (fc *fakeCluster) client(opts *Options) *Client {
	if opts == nil {
		opts = &Options{}
	}
	opts.Addrs = fc.addrs()[:1]
	c, err := New(testContext(fc.t, 5*time.Second), opts)
	require.NoError(fc.t, err)
	fc.t.Cleanup(func() { c.Close() })
	return c
}

func (fc *fakeCluster) serve(node *fakeClusterNode, c *fakeserver.Conn, cmd []string) {
	if fakeserver.ServeHello(c, cmd) {
		return
	}
	name := strings.ToUpper(cmd[0])
	switch {
	case name == "CLUSTER" && len(cmd) > 1 && strings.EqualFold(cmd[1], "SHARDS"):
		fc.asked.Add(1)
		_ = c.Reply(fc.shardsReply())
		return
	case name == "COMMAND":
		entry := func(name string, arity int64, keys [3]int64, flags ...string) resp.Value {
			fl := make([]resp.Value, len(flags))
			for i, f := range flags {
				fl[i] = resp.NewSimpleString(f)
			}
			return resp.NewArray(resp.NewBulkString(name), resp.NewInt(arity), resp.NewSet(fl...),
				resp.NewInt(keys[0]), resp.NewInt(keys[1]), resp.NewInt(keys[2]))
		}
		one, none := [3]int64{1, 1, 1}, [3]int64{0, 0, 0}
		_ = c.Reply(resp.NewArray(
			entry("get", 2, one, "readonly", "fast"), entry("set", -3, one, "write"), entry("incr", 2, one, "write", "fast"),
			entry("mget", -2, [3]int64{1, -1, 1}, "readonly", "fast"), entry("del", -2, [3]int64{1, -1, 1}, "write"),
			entry("mset", -3, [3]int64{1, -1, 2}, "write"), entry("dbsize", 1, none, "readonly", "fast"),
			entry("keys", 2, none, "readonly"), entry("script", -2, none, "noscript"),
		))
		return
	case name == "READONLY" || name == "ASKING":
		_ = c.Reply(resp.NewSimpleString("OK"))
		return
	}
	if h := node.handle.Load(); h != nil && (*h)(c, cmd) {
		return
	}
	switch name {
	case "GET":
		node.gets.Add(1)
		_ = c.Reply(resp.NewBulkString(node.addr))
	case "PING":
		_ = c.Reply(resp.NewSimpleString("PONG"))
	default:
		_ = c.Reply(resp.NewSimpleError("ERR unknown command '" + cmd[0] + "'"))
	}
}

// shardsReply builds the CLUSTER SHARDS reply of the current topology.
func (fc *fakeCluster) shardsReply() resp.Value {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	node := func(addr, role, health string) resp.Value {
		host, portText, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(portText)
		if health == "" {
			health = "online"
		}
		return resp.NewMap(
			resp.NewBulkString("id"), resp.NewBulkString(fmt.Sprintf("%040d", port)),
			resp.NewBulkString("port"), resp.NewInt(int64(port)),
			resp.NewBulkString("ip"), resp.NewBulkString(host),
			resp.NewBulkString("role"), resp.NewBulkString(role),
			resp.NewBulkString("replication-offset"), resp.NewInt(0),
			resp.NewBulkString("health"), resp.NewBulkString(health),
		)
	}
	shards := make([]resp.Value, 0, len(fc.shard))
	for _, s := range fc.shard {
		var ranges []resp.Value
		for _, r := range s.ranges {
			ranges = append(ranges, resp.NewInt(int64(r[0])), resp.NewInt(int64(r[1])))
		}
		nodes := []resp.Value{node(s.master, "master", s.health)}
		for _, r := range s.replicas {
			nodes = append(nodes, node(r, "replica", "online"))
		}
		shards = append(shards, resp.NewMap(
			resp.NewBulkString("slots"), resp.NewArray(ranges...),
			resp.NewBulkString("nodes"), resp.NewArray(nodes...),
		))
	}
	return resp.NewArray(shards...)
}
