// Package slots maps keys to Redis Cluster hash slots and parses the cluster
// topology, which shard serves which slot, from CLUSTER SLOTS and CLUSTER
// SHARDS. It does no I/O: the caller sends the command and hands the reply
// over as a resp.Value.
//
// # Hash slots
//
// Slot and SlotBytes return a key's slot: CRC16/XMODEM of the key modulo
// 16384 (NumSlots), exactly as the server computes it for CLUSTER KEYSLOT. If
// the key holds a hash tag, a non-empty part between the first '{' and the
// first '}' after it, only the tag is hashed, so keys that share a tag share
// a slot. Both are table-driven, a few nanoseconds for a short key, and never
// allocate.
//
// # Topology
//
// A Topology lists the shards (a master, its replicas, the slot ranges it
// serves) and looks up a slot's shard in a 16384-entry table, so ShardFor is
// O(1). Slots that no shard serves are reported as such. Shards, their ranges
// and their replicas are sorted, so that two readings of the same cluster,
// through either command and in either protocol, compare equal.
//
// ParseClusterSlots and ParseClusterShards accept the RESP3 reply (maps) and
// the RESP2 one (flat arrays), with or without Redis 7's node metadata
// (hostname, ip). A reply that is not what the server sends yields an error
// starting "slots:", never a panic; fuzzers check that.
//
// The two commands do not say the same about replicas. CLUSTER SLOTS leaves
// out replicas the server deems unavailable: failed ones, and (Redis 7.0)
// those whose replication offset is still zero. CLUSTER SHARDS keeps every
// node with its health, HealthFailed or HealthLoading for those, and also
// lists masters that serve no slot, as shards without Ranges. Routing should
// skip replicas whose Health is not HealthOnline.
//
// # Addresses
//
// A node's Addr is host:port, where host is the endpoint the server prefers
// (cluster-preferred-endpoint-type): its IP or its hostname. When the server
// does not know it, the parsers use what the server means by that:
//
//   - NULL (CLUSTER SLOTS) or "" (CLUSTER SHARDS), sent under
//     unknown-endpoint: the host of askedAddr, the node that was asked;
//   - "?", a node with no announced hostname under the hostname setting: the
//     node's IP if the reply gives it, else the asked host.
//
// CLUSTER SHARDS gives a node's port and, with tls-cluster, its tls-port.
// The parser uses the tls-port when askedAddr's port is some node's
// tls-port (the client reached the cluster over TLS), or when the node has
// no other; otherwise the port. CLUSTER SLOTS already answers the port that
// matches the asking connection.
//
// # Changes
//
// Diff compares two topologies: the slots whose master changed (or that
// became served or unserved) and the nodes that came or went, by address.
// A cluster client uses it after a refresh to learn what to reconnect and
// which subscriptions to move.
//
// # Example
//
//	c, err := conn.Dial(ctx, "127.0.0.1:7000", nil)
//	if err != nil { ... }
//	v, err := c.Do(ctx, "CLUSTER", "SHARDS")
//	if err != nil { ... }
//	topo, err := slots.ParseClusterShards(v, c.Addr())
//	if err != nil { ... }
//	if shard, ok := topo.ShardFor(slots.Slot("{user1000}.following")); ok {
//		fmt.Println("send to", shard.Master.Addr)
//	}
package slots
