package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/slots"
)

// TestFallsBackToClusterSlotsOnNoPerm: an ACL user denied CLUSTER SHARDS
// gets NOPERM for it; New reads CLUSTER SLOTS instead.
func TestFallsBackToClusterSlotsOnNoPerm(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	const user, password = "no-shards", "no-shards-pw"
	nodes := redistest.Cluster().Nodes()
	for _, n := range nodes {
		require.NoError(t, n.AddUser(ctx, user, password, "~*", "&*", "+@all", "-cluster|shards"))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, n := range nodes {
			if n.Running() {
				_, err := n.Do(ctx, "ACL", "DELUSER", user)
				assert.NoError(t, err)
			}
		}
	})
	replies, err := nodes[0].DoMulti(ctx, []string{"AUTH", user, password}, []string{"CLUSTER", "SHARDS"})
	require.NoError(t, err)
	require.NoError(t, replies[0].Err())
	require.ErrorContains(t, replies[1].Err(), "NOPERM", "the rule bites")

	c := newTestClient(t, &Options{Conn: conn.Options{Username: user, Password: password}})
	assert.Equal(t, slots.NumSlots, c.Topology().Covered())
	assert.True(t, c.noShards.Load(), "CLUSTER SHARDS was refused")
	key := uniqueKey(t, "k")
	_, err = c.Do(ctx, "SET", key, "v")
	require.NoError(t, err)
	v, err := c.Do(ctx, "GET", key)
	require.NoError(t, err)
	s, _ := v.Text()
	assert.Equal(t, "v", s)
}
