package slots_test

import (
	"context"
	"fmt"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
	"github.com/respwire/respwire/slots"
)

func ExampleSlot() {
	fmt.Println(slots.Slot("foo"))
	// Keys that share a hash tag share a slot.
	fmt.Println(slots.Slot("{user1000}.following"), slots.Slot("{user1000}.followers"))
	// An empty tag does not count: the whole key is hashed.
	fmt.Println(slots.Slot("foo{}{bar}"))
	// Output:
	// 12182
	// 3443 3443
	// 8363
}

func ExampleSlotBytes() {
	fmt.Println(slots.SlotBytes([]byte("foo{bar}{zap}")) == slots.Slot("bar"))
	// Output: true
}

// A CLUSTER SLOTS reply as a RESP3 server sends it: two masters, the first
// with a replica; slots 10000-16383 are served by nobody. The second master's
// endpoint is NULL (cluster-preferred-endpoint-type unknown-endpoint), so the
// host of the node that was asked stands in.
func clusterSlotsReply() resp.Value {
	node := func(endpoint resp.Value, port int64, id string) resp.Value {
		return resp.NewArray(endpoint, resp.NewInt(port), resp.NewBulkString(id), resp.NewMap())
	}
	return resp.NewArray(
		resp.NewArray(resp.NewInt(0), resp.NewInt(4999),
			node(resp.NewBulkString("10.0.0.1"), 7000, "a"),
			node(resp.NewBulkString("10.0.0.2"), 7001, "a-replica")),
		resp.NewArray(resp.NewInt(5000), resp.NewInt(9999),
			node(resp.NewNull(), 7002, "b")),
	)
}

func ExampleParseClusterSlots() {
	topo, err := slots.ParseClusterSlots(clusterSlotsReply(), "10.0.0.1:7000")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range topo.Shards {
		fmt.Println(s.Master.Addr, s.Ranges, len(s.Replicas), "replica(s)")
	}
	if shard, ok := topo.ShardFor(slots.Slot("bar")); ok {
		fmt.Println("bar is served by", shard.Master.Addr)
	}
	_, ok := topo.ShardFor(slots.Slot("foo"))
	fmt.Println("foo's slot is served:", ok)
	fmt.Println(topo.Addrs())
	// Output:
	// 10.0.0.1:7000 [[0 4999]] 1 replica(s)
	// 10.0.0.1:7002 [[5000 9999]] 0 replica(s)
	// bar is served by 10.0.0.1:7002
	// foo's slot is served: false
	// [10.0.0.1:7000 10.0.0.1:7002 10.0.0.2:7001]
}

func ExampleDiff() {
	before, _ := slots.ParseClusterSlots(clusterSlotsReply(), "10.0.0.1:7000")
	after, _ := slots.ParseClusterSlots(resp.NewArray(
		resp.NewArray(resp.NewInt(0), resp.NewInt(9999),
			resp.NewArray(resp.NewBulkString("10.0.0.1"), resp.NewInt(7000), resp.NewBulkString("a")))),
		"10.0.0.1:7000")
	changes := slots.Diff(before, after)
	fmt.Println(len(changes.MovedSlots), "slots moved, first", changes.MovedSlots[0])
	fmt.Println("gone:", changes.RemovedNodes)
	// Output:
	// 5000 slots moved, first 5000
	// gone: [10.0.0.1:7002 10.0.0.2:7001]
}

// The package doc's example, compiled so that it cannot drift: ask a live
// node for CLUSTER SHARDS and look up a key's master. It has no Output line,
// so `go test` builds it without running it (there is no server at that
// address).
func ExampleParseClusterShards() {
	ctx := context.Background()
	c, err := conn.Dial(ctx, "127.0.0.1:7000", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	v, err := c.Do(ctx, "CLUSTER", "SHARDS")
	if err != nil {
		fmt.Println(err)
		return
	}
	topo, err := slots.ParseClusterShards(v, c.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	if shard, ok := topo.ShardFor(slots.Slot("{user1000}.following")); ok {
		fmt.Println("send to", shard.Master.Addr)
	}
}
