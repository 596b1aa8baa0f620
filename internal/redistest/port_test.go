package redistest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// portsTaken makes the node pickers return taken, one port after the other,
// and fresh ports afterwards, until the test ends. (Another process's server
// grabbing a port between FreePort and the bind looks just like this.)
func portsTaken(t *testing.T, taken ...int) {
	t.Helper()
	next := pickPort
	t.Cleanup(func() { pickPort = next })
	pickPort = func() (int, error) {
		if len(taken) == 0 {
			return next()
		}
		port := taken[0]
		taken = taken[1:]
		return port, nil
	}
}

// requireOwnServer checks that n's address is served by n's own process.
func requireOwnServer(t *testing.T, n *Node) {
	t.Helper()
	info, err := n.Info(context.Background(), "server")
	require.NoError(t, err)
	require.NotZero(t, n.PID())
	assert.Equal(t, strconv.Itoa(n.PID()), info["process_id"], "%s is served by another process", n.Addr)
}

func TestStartOnTakenPort(t *testing.T) {
	occupant := NewNode(t, NodeOptions{})
	for _, tc := range []struct {
		name    string
		cluster bool
	}{{"standalone", false}, {"cluster", true}} {
		t.Run(tc.name, func(t *testing.T) {
			portsTaken(t, occupant.Port)
			n := NewNode(t, NodeOptions{Cluster: tc.cluster})
			assert.NotEqual(t, occupant.Port, n.Port)
			requireOwnServer(t, n)
			if tc.cluster {
				assert.NotEmpty(t, n.ID)
			}
		})
	}
}

func TestStartOnTakenBusPort(t *testing.T) {
	occupant := NewNode(t, NodeOptions{})
	port, err := FreePort()
	require.NoError(t, err)
	portsTaken(t, port, occupant.Port) // the bus port is the one taken
	n := NewNode(t, NodeOptions{Cluster: true})
	assert.NotEqual(t, occupant.Port, n.busPort)
	requireOwnServer(t, n)
	assert.NotEmpty(t, n.ID)
}

func TestRestartOnTakenPort(t *testing.T) {
	n := NewNode(t, NodeOptions{})
	port := n.Port
	require.NoError(t, n.Kill())
	portsTaken(t, port)
	occupant := NewNode(t, NodeOptions{})
	require.Equal(t, port, occupant.Port)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	assert.Error(t, n.Restart(ctx), "the port is someone else's")
	assert.False(t, n.Running())

	require.NoError(t, occupant.Stop())
	require.NoError(t, n.Restart(context.Background()))
	assert.Equal(t, port, n.Port)
	requireOwnServer(t, n)
}

func TestFreePortNeverTwice(t *testing.T) {
	seen := make(map[int]bool)
	for range 500 {
		port, err := FreePort()
		require.NoError(t, err)
		require.False(t, seen[port], "port %d handed out twice", port)
		seen[port] = true
	}
}
