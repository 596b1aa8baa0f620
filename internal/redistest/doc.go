// Package redistest starts throwaway redis-server processes, a standalone
// server and a 3-master, 3-replica cluster, for respwire's tests and
// benchmarks, and injects real faults into them: kill, restart, pause,
// failover, slot migration. Nothing is faked: every process is Debian's
// redis-server.
//
// # TestMain
//
// Every test package calls Main from its TestMain, naming what it needs.
// Main starts it once (all at once: about 2 s for a cluster, tens of
// milliseconds for a server), runs the tests under goleak.VerifyTestMain,
// and stops every server, and the goroutines that watch them, before goleak
// looks and before the binary exits:
//
//	func TestMain(m *testing.M) {
//		redistest.Main(m, redistest.NeedServer|redistest.NeedCluster)
//	}
//
//	func TestGet(t *testing.T) {
//		c, err := conn.Dial(ctx, redistest.Server().Addr, nil)
//		...
//		cc, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
//		...
//	}
//
// NeedTLSServer and NeedTLSCluster add a TLS-only server and cluster
// (TLSServer, TLSCluster); clients connect with Node.TLSConfig or
// ClientTLSConfig. If redis-server is not on PATH, Main runs no test and
// exits with status 1 and a message naming the Debian package
// (redis-server): a missing server is never a silent skip.
//
// # Existing servers
//
// REDIS_ADDR=host:port replaces the standalone server and
// REDIS_CLUSTER_ADDRS=host:port,... the cluster (every node is found from
// the first that answers). The helpers that need a process (Kill, Restart,
// Pause, Resume) then return ErrExternal; the ones that only send commands
// (Failover, MigrateSlot, WaitHealthy) still work.
//
// # Servers
//
// Each server runs in a temporary directory of its own, with its own
// redis.conf, on a free loopback port (picked below the kernel's ephemeral
// range, retried if another package takes it first), without persistence
// and with DEBUG allowed. StartNode starts extra ones (TLS, requirepass,
// cluster mode, extra directives); NewNode does it for one test and stops it
// at its end. Node.Do and Node.DoMulti send admin commands on a short-lived
// connection of their own (RESP2, with TLS and AUTH as the node needs);
// Info, ClusterInfo, Clients and AddUser wrap the common ones.
//
// Servers die with the test binary however it ends. On Linux each one is
// forked from a goroutine locked to its OS thread for the binary's life,
// with Pdeathsig: when the binary dies (a test panics, go test's timeout, a
// SIGKILL) the kernel kills the servers. Main's teardown and a SIGINT/SIGTERM
// handler stop them and remove their directories, and Main fails the run if
// a redis-server child survives teardown.
//
// # Cluster
//
// The cluster is built without redis-cli and without fixed sleeps: distinct
// config epochs, even slot ranges, CLUSTER MEET between every pair, CLUSTER
// REPLICATE, then WaitHealthy. Most of its two seconds are Redis's own: a
// new master does not report cluster_state:ok within 2 s of starting. Nodes
// run with cluster-node-timeout 2000, cluster-replica-validity-factor 0 and
// cluster-allow-replica-migration no, so a killed master is replaced within
// a few seconds and replicas stay where they were put.
//
// Roles change: Masters, Replicas, MasterOf and ReplicaOf ask the cluster
// each time rather than remember how it was built.
//
// # Sentinel
//
// NeedSentinel (Sentinel) and StartSentinel / NewSentinel give a master, two
// replicas and three sentinels (redis-server --sentinel, quorum 2,
// down-after-milliseconds 1000, failover-timeout 3000). StartFailover and
// Failover force SENTINEL FAILOVER, KillMaster SIGKILLs the master,
// WaitSwitched waits until every running sentinel names another master, and
// Reset, in a Cleanup, restarts killed sentinels and nodes (a killed master
// as a replica) and waits for the deployment to be healthy again. The
// sentinels are Nodes: Kill, Pause and Restart work on them too.
// SentinelOptions add passwords (the nodes' and the sentinels' own) and TLS
// for every connection, replication and the sentinels' included.
//
// # Faults
//
// Node.Kill (SIGKILL) and Node.Restart (same port, configuration and
// directory: a cluster node rejoins from its nodes.conf, a killed master as
// a replica of whoever replaced it), Node.Pause and Node.Resume (SIGSTOP,
// SIGCONT), TestCluster.Failover (CLUSTER FAILOVER on the replica; FORCE,
// then TAKEOVER, when the master is down), TestCluster.MigrateSlot, and
// StartMigration for tests that need a slot half-way (ASK). Each waits until
// every running node agrees before it returns; WaitHealthy waits for the
// whole cluster.
//
// Tests share the package's cluster. A test that injects a fault must leave
// it healthy for the next: TestCluster.Reset, in a Cleanup, resumes and
// restarts nodes, fails shards back and moves slots home, so the next test
// finds the cluster as StartCluster made it. Fault tests must not run in
// parallel with each other. NewCluster gives a test a private cluster for
// about two seconds of startup.
package redistest
