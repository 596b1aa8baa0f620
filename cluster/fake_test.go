package cluster

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/fakeserver"
	"github.com/respwire/respwire/resp"
)

// fakeNode is a one-node "cluster" on a fake server, for replies a real
// cluster won't give on demand. It refuses CLUSTER SHARDS like a Redis 6
// (so the client falls back to CLUSTER SLOTS), reports GET in the pre-7.0
// COMMAND shape (no key specs) and answers GET with what get returns.
type fakeNode struct {
	server *fakeserver.Server
	gets   atomic.Int64
}

// startFakeNode serves GET with get, given the number of the GET and the
// node's address; or, with other set, every command but HELLO, CLUSTER and
// COMMAND with other.
func startFakeNode(t *testing.T, get func(n int64, self string) resp.Value, other ...func(f *fakeNode, c *fakeserver.Conn, cmd []string)) *fakeNode {
	f := &fakeNode{server: fakeserver.Start(t)}
	self := f.server.Addr()
	host, portText, err := net.SplitHostPort(self)
	require.NoError(t, err)
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	f.server.Handle(func(c *fakeserver.Conn, cmd []string) {
		if fakeserver.ServeHello(c, cmd) {
			return
		}
		switch strings.ToUpper(cmd[0]) {
		case "CLUSTER":
			if strings.EqualFold(cmd[1], "SHARDS") {
				_ = c.Reply(resp.NewSimpleError("ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP."))
				return
			}
			_ = c.Reply(resp.NewArray(resp.NewArray(
				resp.NewInt(0), resp.NewInt(16383),
				resp.NewArray(resp.NewBulkString(host), resp.NewInt(int64(port)), resp.NewBulkString("0123456789012345678901234567890123456789")),
			)))
		case "COMMAND":
			_ = c.Reply(resp.NewArray(resp.NewArray(
				resp.NewBulkString("get"), resp.NewInt(2),
				resp.NewSet(resp.NewSimpleString("readonly"), resp.NewSimpleString("fast")),
				resp.NewInt(1), resp.NewInt(1), resp.NewInt(1),
			)))
		default:
			switch {
			case len(other) > 0:
				other[0](f, c, cmd)
			case strings.EqualFold(cmd[0], "GET") && get != nil:
				_ = c.Reply(get(f.gets.Add(1), self))
			default:
				_ = c.Reply(resp.NewSimpleError("ERR unknown command"))
			}
		}
	})
	return f
}

func newFakeClient(t *testing.T, f *fakeNode, opts *Options) *Client {
	if opts == nil {
		opts = &Options{}
	}
	opts.Addrs = []string{f.server.Addr()}
	c, err := New(testContext(t, 5*time.Second), opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestFallsBackToClusterSlots(t *testing.T) {
	f := startFakeNode(t, func(int64, string) resp.Value { return resp.NewBulkString("v") })
	c := newFakeClient(t, f, nil)
	assert.Equal(t, 16384, c.Topology().Covered())
	v, err := c.Do(testContext(t, 5*time.Second), "GET", "k")
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "v", s)
	info, ok := c.commands.lookup("GET")
	require.True(t, ok)
	assert.Equal(t, []int{1, 1, 1}, []int{info.firstKey, info.lastKey, info.keyStep}, "legacy key positions")
}

func TestRetriesTransientErrors(t *testing.T) {
	f := startFakeNode(t, func(n int64, _ string) resp.Value {
		switch n {
		case 1:
			return resp.NewSimpleError("TRYAGAIN Multiple keys request during rehashing of slot")
		case 2:
			return resp.NewSimpleError("CLUSTERDOWN The cluster is down")
		case 3:
			return resp.NewSimpleError("LOADING Redis is loading the dataset in memory")
		}
		return resp.NewBulkString("v")
	})
	c := newFakeClient(t, f, nil)
	v, err := c.Do(testContext(t, 5*time.Second), "GET", "k")
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "v", s)
	assert.Equal(t, int64(4), f.gets.Load())
}

func TestRetryEndsWithContext(t *testing.T) {
	f := startFakeNode(t, func(int64, string) resp.Value {
		return resp.NewSimpleError("CLUSTERDOWN The cluster is down")
	})
	c := newFakeClient(t, f, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, "GET", "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Greater(t, f.gets.Load(), int64(1), "retried")
}

func TestMaxRedirects(t *testing.T) {
	// A node that redirects every GET to itself: a loop the client must end.
	f := startFakeNode(t, func(_ int64, self string) resp.Value {
		return resp.NewSimpleError("MOVED 12539 " + self)
	})
	c := newFakeClient(t, f, &Options{MaxRedirects: 3})
	_, err := c.Do(testContext(t, 5*time.Second), "GET", "k")
	var re *resp.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "MOVED", re.Code)
	assert.Contains(t, err.Error(), "cluster: more than 3 redirects")
	assert.Equal(t, int64(4), f.gets.Load(), "the first try and three hops")

	replies, err := c.DoMulti(testContext(t, 5*time.Second), []string{"GET", "a"}, []string{"GET", "b"})
	require.Error(t, err)
	require.Len(t, replies, 2)
	for _, r := range replies {
		require.ErrorAs(t, r.Err(), &re, "each reply holds its last MOVED")
	}
}

func TestAskThenReply(t *testing.T) {
	// The first GET is answered ASK (to the same node); the client must send
	// ASKING and the GET together.
	var asking atomic.Bool
	f := startFakeNode(t, nil, func(f *fakeNode, c *fakeserver.Conn, cmd []string) {
		switch strings.ToUpper(cmd[0]) {
		case "ASKING":
			asking.Store(true)
			_ = c.Reply(resp.NewSimpleString("OK"))
		case "GET":
			switch {
			case f.gets.Add(1) == 1:
				_ = c.Reply(resp.NewSimpleError("ASK 12539 " + f.server.Addr()))
			case !asking.Load():
				_ = c.Reply(resp.NewSimpleError("ERR no ASKING before the redirected GET"))
			default:
				_ = c.Reply(resp.NewBulkString("v"))
			}
		}
	})
	c := newFakeClient(t, f, nil)
	v, err := c.Do(testContext(t, 5*time.Second), "GET", "k")
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "v", s)
	assert.True(t, asking.Load())
	assert.Equal(t, int64(2), f.gets.Load())
}

func TestUnreachableSeedIsAnError(t *testing.T) {
	f := fakeserver.Start(t)
	f.Handle(func(c *fakeserver.Conn, cmd []string) {
		if fakeserver.ServeHello(c, cmd) {
			return
		}
		_ = c.Reply(resp.NewSimpleError("ERR This instance has cluster support disabled"))
	})
	_, err := New(testContext(t, 5*time.Second), &Options{Addrs: []string{f.Addr()}})
	require.Error(t, err)
	var re *resp.Error
	assert.True(t, errors.As(err, &re), "%v", err)
	assert.True(t, strings.HasPrefix(err.Error(), "cluster: "), "%v", err)
}

// TestLoadingReplicaJoinsReads: a replica the topology reports as loading
// serves no reads; with ReadReplicas the client reads the topology again by
// itself, with nothing else to trigger it, and routes reads to the replica
// once it is reported online.
func TestLoadingReplicaJoinsReads(t *testing.T) {
	f := fakeserver.Start(t)
	host, portText, err := net.SplitHostPort(f.Addr())
	require.NoError(t, err)
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	const replicaPort = 1 // never dialled: the test only looks at the routing
	var shardsAsked atomic.Int64
	node := func(id string, port int, role, health string) resp.Value {
		return resp.NewMap(
			resp.NewBulkString("id"), resp.NewBulkString(id),
			resp.NewBulkString("port"), resp.NewInt(int64(port)),
			resp.NewBulkString("ip"), resp.NewBulkString(host),
			resp.NewBulkString("role"), resp.NewBulkString(role),
			resp.NewBulkString("replication-offset"), resp.NewInt(0),
			resp.NewBulkString("health"), resp.NewBulkString(health),
		)
	}
	f.Handle(func(c *fakeserver.Conn, cmd []string) {
		if fakeserver.ServeHello(c, cmd) {
			return
		}
		switch {
		case strings.EqualFold(cmd[0], "CLUSTER") && len(cmd) > 1 && strings.EqualFold(cmd[1], "SHARDS"):
			health := "loading"
			if shardsAsked.Add(1) > 2 {
				health = "online"
			}
			_ = c.Reply(resp.NewArray(resp.NewMap(
				resp.NewBulkString("slots"), resp.NewArray(resp.NewInt(0), resp.NewInt(16383)),
				resp.NewBulkString("nodes"), resp.NewArray(
					node("m", port, "master", "online"),
					node("r", replicaPort, "replica", health),
				),
			)))
		case strings.EqualFold(cmd[0], "COMMAND"):
			_ = c.Reply(resp.NewArray())
		case strings.EqualFold(cmd[0], "READONLY"):
			_ = c.Reply(resp.NewSimpleString("OK"))
		default:
			_ = c.Reply(resp.NewSimpleError("ERR unknown command"))
		}
	})
	c, err := New(testContext(t, 5*time.Second), &Options{Addrs: []string{f.Addr()}, ReadReplicas: true})
	require.NoError(t, err)
	defer c.Close()
	replicaAddr := net.JoinHostPort(host, strconv.Itoa(replicaPort))
	require.Equal(t, f.Addr(), c.table.Load().pick(0, true).addr, "reads go to the master while the replica loads")
	require.Eventually(t, func() bool {
		return c.table.Load().pick(0, true).addr == replicaAddr
	}, 10*time.Second, 10*time.Millisecond, "reads go to the replica once it is reported online")
	assert.Greater(t, shardsAsked.Load(), int64(2))
}
