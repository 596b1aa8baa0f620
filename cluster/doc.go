// Package cluster is a Redis Cluster client: it routes each command by hash
// slot, follows MOVED and ASK redirects and refreshes the topology.
//
// A Client is safe for any number of goroutines. It keeps one conn.Client
// (an auto-pipelined, redialled connection) per node, made on first use, so
// commands from many goroutines to one node share that node's writes.
// It is a conn.Universal, so code written against that interface runs on
// it as on a standalone conn.Client (DoCmd routes a conn.Command by its
// keys, whatever their type; Watch lends a connection to the keys' master).
//
// # Start-up
//
// New asks the seed nodes for the topology, several at once; the first good
// answer wins. It reads CLUSTER SHARDS, or CLUSTER SLOTS on servers older
// than 7.0. From the node that answered it also reads the command table
// (COMMAND), once per Client: that is where key positions come from.
//
// # Routing
//
// A command's keys are found from the server's own metadata: the key
// specifications Redis 7 reports (a fixed position, or after a keyword such
// as STREAMS; a range, or a count such as EVAL's numkeys), subcommands such
// as OBJECT ENCODING, and first/last/step on older servers. A command the
// table lacks (a module loaded later) is looked up once with COMMAND INFO.
// Finding the keys and the node takes no lock and no allocation: the
// command name is matched without regard to case in a precomputed map, and
// the slot indexes an immutable 16384-entry table behind an atomic pointer.
//
// A command whose keys hash to different slots is refused before it is sent,
// with an error wrapping ErrCrossSlot (use {hash tags} to keep related keys
// in one slot), unless its tips say how to split it (below). A command
// without keys goes to a random master, unless its tips say otherwise.
// With Options.ReadReplicas, read-only commands
// go to a random replica of their slot's shard (each connection sends
// READONLY). Only replicas the topology reports online serve reads: while a
// replica is loading or failed, its reads go to the master. Options.ReplicaPolicy
// ReplicaLowestLatency sends each shard's reads to the replica with the
// lowest measured PING time instead (measured after each refresh), and
// Options.SelectReplica lets the application choose per shard (for
// availability-zone affinity, say). Blocking
// commands go to masters; conn.Client runs them on connections of their own.
//
// # Commands that fan out
//
// Redis 7 reports for each command a request_policy and a response_policy
// tip (COMMAND); the client follows them. On Redis 7.0:
//
//   - all_shards, to every master: DBSIZE (summed), KEYS (arrays
//     concatenated), RANDOMKEY (the first non-null reply), FLUSHALL and
//     FLUSHDB (OK if every master said OK), PING (the same), WAIT (the
//     least), SCRIPT EXISTS (ANDed element by element), SCRIPT KILL and
//     FUNCTION KILL (the first success), FUNCTION LOAD, DELETE, FLUSH and
//     RESTORE, MEMORY PURGE (all succeeded), INFO, MEMORY STATS, MEMORY
//     DOCTOR, MEMORY MALLOC-STATS and FUNCTION STATS (special: see below);
//   - all_nodes, to every master and every replica not reported failed
//     (Redis 7.0 calls a fresh replica loading): SCRIPT LOAD and SCRIPT
//     FLUSH, CONFIG SET, SLOWLOG RESET and LATENCY RESET (all succeeded),
//     SLOWLOG LEN (summed), SLOWLOG GET (concatenated), the other LATENCY
//     subcommands (special);
//   - multi_shard, split by slot when the keys span slots: MGET (one array
//     in the caller's key order), DEL, EXISTS, UNLINK and TOUCH (summed),
//     MSET (OK if every part said OK). The parts go out together, grouped
//     by node, each following its own redirects. MSETNX is never split (it
//     promises all or nothing) and keeps ErrCrossSlot.
//
// A keyed command whose keys share a slot is sent as usual, tips or not.
// Merging: agg_sum, agg_min, agg_max, agg_logical_and and agg_logical_or
// fold integers (arrays of integers element by element); all_succeeded
// returns the first error reply, if any, else one of the replies;
// one_succeeded returns the first reply that isn't an error; special
// returns a map of each node's address to its reply; with no response
// policy, arrays and sets are concatenated, maps merged, and otherwise the
// first non-null reply is returned. Any error reply among the replies is
// the result (except for one_succeeded and special), and a node that
// can't be reached fails the call with an error naming it. SCAN's tip is
// "special": Do sends it to one master; use Scan to walk every master.
// KEYS is one snapshot per master, all taken at once: during a slot
// migration a key moving between two masters may be missed or listed
// twice; Scan rescans what moved.
// Servers older than 7.0 report no tips: a built-in table then gives the
// tips above to DBSIZE, KEYS, RANDOMKEY, FLUSHALL, FLUSHDB, WAIT, SCRIPT
// LOAD, FLUSH, EXISTS and KILL, MGET, MSET, DEL, UNLINK, EXISTS and TOUCH
// (not PING, which stays a call to one master). In DoMulti, a command that
// fans out runs on its own, in its place: the batch's commands before it are
// answered first and those after it are sent after it, so every node sees
// them in the batch's order; inside MULTI ... EXEC nothing fans out.
//
// # Scanning the keyspace
//
// Scan is an iterator (iter.Seq2) over the keys of every master, with
// SCAN's MATCH, COUNT and TYPE. It survives failovers and slot migrations
// that finish while it runs (it scans again what moved), so a key that
// exists throughout is yielded at least once; it may yield a key twice.
//
// # Reaching nodes
//
// Masters, Replicas and Nodes list the nodes of the topology with their
// addresses, roles, health and slot ranges; Node.Do and Node.DoMulti send
// commands to one of them, following no redirect. ForEachMaster and
// ForEachNode run a function for every master (or every node) at once and
// join the errors, each naming its node.
//
// # Redirects and failures
//
// MOVED updates the slot in the table at once and triggers a refresh of the
// whole topology; refreshes are coalesced and spaced at least 100 ms apart,
// so a burst of MOVED replies costs one. ASK sends ASKING and the command to
// the target in one write and leaves the table alone. TRYAGAIN, CLUSTERDOWN
// and LOADING are retried with a backoff (1 ms doubling to 200 ms) while the
// context lasts. A command takes at most Options.MaxRedirects hops (16 by
// default). A node that refuses connections, whose connection breaks, is
// down when a call is made, or whose calls run out of time becomes suspect:
// the topology is read again at once and then every 250 ms, and the node is
// PINGed, until it answers or leaves the routing. So a failover is noticed
// even though calls to a dead node just wait for it; when it leaves the
// routing, those calls, never written, go to the new owner. A command is
// sent again after a connection error only when it surely never left, so a
// write never runs twice. Refresh reads
// the topology on demand, for example after a node pushed an unsubscribe.
// In steady state the topology is also checked about every
// Options.RefreshInterval (15 s by default, each wait drawn at random
// between half and one and a half times that, so that many clients don't
// check in step), from one node: replicas that joined and nodes that
// recovered are used without waiting for a redirect.
//
// # Batches and transactions
//
// DoMulti groups commands by node, writes each node's group at once (the
// groups of different nodes concurrently), follows each command's redirects
// on its own and returns the replies in the caller's order; a batch is never
// sent again as a whole. A transaction (MULTI ... EXEC or DISCARD) is one
// piece: all of it goes, in one write, to the node of its keys' slot, and a
// transaction whose keys span slots is refused unsent with ErrCrossSlot. It
// runs at most once: it is sent again (to the new owner after MOVED, with
// ASKING after ASK, after a backoff for TRYAGAIN) only when the node refused
// it without running it, which EXEC says by answering the redirect itself or
// EXECABORT after a queued command got one. Never send MULTI, EXEC or WATCH
// with Do: node connections are shared by every goroutine. For WATCH,
// Dedicated runs a function on a connection of its own to the master of a
// key's slot; a MOVED inside it is returned as an error wrapping
// ErrSlotMoved, never followed, and the caller retries.
//
// # Lifecycle
//
// Close closes every node connection and stops the background refresh,
// waiting for it. The first call does the work; every other call,
// concurrent or later, returns nil at once. Calls after Close fail with an
// error wrapping conn.ErrClosed.
//
// # Client-side caching
//
// DoCache and DoMultiCache follow conn.Client's rules (see package conn):
// each master's connection tracks, in OPTIN mode, the keys read through it,
// and every node shares one conn.Cache, so Options.Conn.CacheMaxBytes bounds
// the whole cluster's cache (Options.Conn.DisableCache switches it off).
// Cached reads always go to masters. A MOVED reply during a cached read is
// followed and the read cached at the new owner; an ASK reply (a slot half
// migrated) is followed with ASKING and the command, uncached. When the
// routing learns that a slot moved to another master (a MOVED, a refresh),
// the slot's entries are dropped. DoMultiCache groups its commands by master
// and sends each group's misses in one write, the groups concurrently.
//
// # Observability
//
// Options.Conn.Hooks and Options.Conn.Logger reach every node connection,
// so conn's hooks and records (commands, dials, redials, lost connections)
// cover the whole cluster, each event naming its node. Options.Hooks adds
// the cluster's own events; each field may be nil, and a nil *Hooks costs
// nothing:
//   - Redirect: a MOVED or ASK followed, on the caller's goroutine with its
//     context, with the command's name (never an argument), the slot and
//     both nodes.
//   - Refresh: a topology refresh that finished, with its RefreshReason
//     (Client.Refresh, a redirect, a suspect node, the steady check, a
//     loading replica), its duration and error, and what changed since the
//     previous refresh: whether the routing changed, how many slots changed
//     master, the addresses added and removed. The topology New reads is
//     not reported.
//   - Node: a node becoming suspect (its connection down, a call timed
//     out on it), with the cause, and recovering (it answered a PING, or
//     the routing dropped it).
//
// Hooks run synchronously and must be quick; a panic in one is recovered,
// its event dropped and the first panic of each hook logged at Error.
//
// On Options.Conn.Logger the Client logs a changed topology at Info (the
// reason, slots moved, nodes added and removed), a master replaced by one
// of its replicas at Warn (both addresses, the slots), a failed refresh at
// Warn, a node suspected at Warn and recovered at Info, and each redirect
// at Debug. No record holds a key, an argument or a password.
//
// Client.Stats returns each node connection's conn.Stats, their sum, the
// redirects followed, the refreshes (and failed ones) and the suspect
// nodes: cheap enough to read every second.
//
// # Example
//
//	c, err := cluster.New(ctx, &cluster.Options{
//		Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000"},
//	})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	if _, err := c.Do(ctx, "SET", "{user:42}:name", "Ada"); err != nil {
//		return err
//	}
//	v, err := c.Do(ctx, "GET", "{user:42}:name")
package cluster
