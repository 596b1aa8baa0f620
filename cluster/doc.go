// Package cluster is a Redis Cluster client: it routes each command by hash
// slot, follows MOVED and ASK redirects and refreshes the topology.
//
// A Client is safe for any number of goroutines. It keeps one conn.Client
// (an auto-pipelined, redialled connection) per node, made on first use, so
// commands from many goroutines to one node share that node's writes.
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
// with an error wrapping ErrCrossSlot; use {hash tags} to keep related keys
// in one slot. A command without keys goes to a random master: commands that
// should reach every node (KEYS, SCAN, FLUSHALL, DBSIZE, ...) must be sent to
// each master by the caller. With Options.ReadReplicas, read-only commands
// go to a random replica of their slot's shard (each connection sends
// READONLY). Only replicas the topology reports online serve reads: while a
// replica is loading or failed, its reads go to the master. Blocking
// commands go to masters; conn.Client runs them on connections of their own.
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
// with Do: node connections are shared by every goroutine.
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
