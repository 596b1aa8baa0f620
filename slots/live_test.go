package slots

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// ask sends commands to addr on a connection of its own, after HELLO 3 when
// proto is 3, and returns their replies; an error reply is an error.
func ask(ctx context.Context, addr string, proto int, cmds ...[]string) ([]resp.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	var req []byte
	if proto == 3 {
		req = resp.AppendCommand(req, "HELLO", "3")
	}
	for _, cmd := range cmds {
		req = resp.AppendCommand(req, cmd...)
	}
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	r := resp.NewReader(c)
	if proto == 3 {
		if hello, err := r.Read(); err != nil || hello.Kind() != resp.Map {
			return nil, fmt.Errorf("HELLO 3: %v %v", hello, err)
		}
	}
	replies := make([]resp.Value, len(cmds))
	for i := range replies {
		if replies[i], err = r.Read(); err != nil {
			return nil, err
		}
		if err := replies[i].Err(); err != nil {
			return nil, fmt.Errorf("%v: %w", cmds[i], err)
		}
	}
	return replies, nil
}

// liveTopology asks addr for CLUSTER SLOTS and CLUSTER SHARDS and parses both.
func liveTopology(ctx context.Context, addr string, proto int) (fromSlots, fromShards *Topology, err error) {
	replies, err := ask(ctx, addr, proto, []string{"CLUSTER", "SLOTS"}, []string{"CLUSTER", "SHARDS"})
	if err != nil {
		return nil, nil, err
	}
	if fromSlots, err = ParseClusterSlots(replies[0], addr); err != nil {
		return nil, nil, err
	}
	fromShards, err = ParseClusterShards(replies[1], addr)
	return fromSlots, fromShards, err
}

// settle makes the cluster's replicas count as available: Redis 7.0 leaves a
// replica out of CLUSTER SLOTS, and reports it "loading" in CLUSTER SHARDS,
// until its replication offset is non-zero. A write to every master moves
// the offsets; settle then waits until every node, asked either command in
// either protocol, reports every replica online, and returns that topology.
func settle(ctx context.Context, t *testing.T, c *redistest.TestCluster) *Topology {
	t.Helper()
	require.NoError(t, c.WaitHealthy(ctx))
	for _, m := range c.Masters() {
		for i := 0; ; i++ {
			key := "slots-settle-" + strconv.Itoa(i)
			owner, err := c.MasterOf(ctx, int(Slot(key)))
			require.NoError(t, err)
			if owner == m {
				_, err := ask(ctx, m.Addr, 3, []string{"SET", key, "x"})
				require.NoError(t, err)
				break
			}
		}
	}
	var agreed *Topology
	require.Eventually(t, func() bool {
		agreed = nil
		for _, addr := range c.Addrs() {
			for _, proto := range []int{2, 3} {
				fromSlots, fromShards, err := liveTopology(ctx, addr, proto)
				if err != nil || len(fromSlots.Addrs()) != len(c.Addrs()) {
					return false
				}
				if agreed == nil {
					agreed = fromSlots
				}
				if !Diff(agreed, fromSlots).Empty() || !Diff(agreed, fromShards).Empty() {
					return false
				}
			}
		}
		return true
	}, 20*time.Second, 100*time.Millisecond, "the cluster's nodes never agreed, with every replica online")
	return agreed
}

func TestLiveBothCommandsAgree(t *testing.T) {
	ctx := t.Context()
	c := redistest.Cluster()
	settle(ctx, t, c)
	want, _, err := liveTopology(ctx, c.Masters()[0].Addr, 3)
	require.NoError(t, err)

	// Every node, asked either command in either protocol, tells the same,
	// down to the order of shards and replicas.
	for _, addr := range c.Addrs() {
		for _, proto := range []int{2, 3} {
			fromSlots, fromShards, err := liveTopology(ctx, addr, proto)
			require.NoError(t, err)
			assert.Equal(t, want.Shards, fromSlots.Shards, "CLUSTER SLOTS from %s, RESP%d", addr, proto)
			assert.Equal(t, want.Shards, fromShards.Shards, "CLUSTER SHARDS from %s, RESP%d", addr, proto)
		}
	}

	// And it is the harness's cluster: its masters and replicas, every
	// slot served, each by the master the harness names.
	masters := make(map[string]string)
	for _, m := range c.Masters() {
		masters[m.ID] = m.Addr
	}
	replicas := make(map[string]string)
	for _, r := range c.Replicas() {
		replicas[r.ID] = r.Addr
	}
	require.Len(t, want.Shards, len(masters))
	for _, s := range want.Shards {
		assert.Equal(t, masters[s.Master.ID], s.Master.Addr)
		assert.NotEmpty(t, s.Replicas, "shard of %s", s.Master.Addr)
		for _, r := range s.Replicas {
			assert.Equal(t, replicas[r.ID], r.Addr)
			assert.Equal(t, HealthOnline, r.Health)
		}
	}
	assert.Equal(t, NumSlots, want.Covered())
	assert.ElementsMatch(t, c.Addrs(), want.Addrs())
	for _, slot := range []int{0, 1, 5460, 5461, 10922, 10923, NumSlots - 1} {
		owner, err := c.MasterOf(ctx, slot)
		require.NoError(t, err)
		shard, ok := want.ShardFor(uint16(slot))
		require.True(t, ok, "slot %d", slot)
		assert.Equal(t, owner.ID, shard.Master.ID, "slot %d", slot)
	}
}

func TestLiveMigrateSlot(t *testing.T) {
	ctx := t.Context()
	c := redistest.Cluster()
	before := settle(ctx, t, c)

	slot := Slot("slots-live-migrate")
	from, err := c.MasterOf(ctx, int(slot))
	require.NoError(t, err)
	var to *redistest.Node
	for _, m := range c.Masters() {
		if m != from {
			to = m
			break
		}
	}
	require.NotNil(t, to)
	_, err = ask(ctx, from.Addr, 3, []string{"SET", "slots-live-migrate", "v"})
	require.NoError(t, err)

	require.NoError(t, c.MigrateSlot(ctx, int(slot), to))
	restored := false
	t.Cleanup(func() {
		if !restored { // leave the shared cluster as it was
			assert.NoError(t, c.MigrateSlot(context.Background(), int(slot), from))
		}
	})

	moved := Changes{MovedSlots: []uint16{slot}}
	for _, addr := range c.Addrs() {
		for _, proto := range []int{2, 3} {
			fromSlots, fromShards, err := liveTopology(ctx, addr, proto)
			require.NoError(t, err)
			for name, after := range map[string]*Topology{"CLUSTER SLOTS": fromSlots, "CLUSTER SHARDS": fromShards} {
				shard, ok := after.ShardFor(slot)
				require.True(t, ok)
				assert.Equal(t, to.ID, shard.Master.ID, "%s from %s RESP%d: slot %d's owner", name, addr, proto, slot)
				assert.Equal(t, moved, Diff(before, after), "%s from %s RESP%d", name, addr, proto)
				assert.Equal(t, moved, Diff(after, before), "%s from %s RESP%d, backwards", name, addr, proto)
			}
		}
	}

	require.NoError(t, c.MigrateSlot(ctx, int(slot), from))
	restored = true
	back, _, err := liveTopology(ctx, c.Addrs()[0], 3)
	require.NoError(t, err)
	assert.True(t, Diff(before, back).Empty(), "%+v", Diff(before, back))
	assert.Equal(t, before.Shards, back.Shards, "the slot's range merged back")
}

func TestLiveKeySlotsMatchServer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"", "{", "}", "{}", "{}{a}", "a{b}c", "{user1000}.following", "foo{{bar}}zap"}
	for len(keys) < 400 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(8) == 0 {
				b[i] = "{}"[rng.IntN(2)] // hash tags, well-formed or not
			} else {
				b[i] = byte(rng.IntN(256))
			}
		}
		keys = append(keys, string(b))
	}
	cmds := make([][]string, len(keys))
	for i, k := range keys {
		cmds[i] = []string{"CLUSTER", "KEYSLOT", k}
	}
	replies, err := ask(t.Context(), redistest.Cluster().Addrs()[0], 3, cmds...)
	require.NoError(t, err)
	require.Len(t, replies, len(keys))
	for i, k := range keys {
		want, err := replies[i].Int()
		require.NoError(t, err)
		assert.Equal(t, uint16(want), Slot(k), "key %q", k)
		assert.Equal(t, uint16(want), SlotBytes([]byte(k)), "key %q", k)
	}
}
