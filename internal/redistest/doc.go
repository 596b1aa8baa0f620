// Package redistest starts throwaway redis-server processes, a standalone
// server and a 3-master, 3-replica cluster, for tests and benchmarks, and
// injects faults into them: kill, restart, pause, failover, slot migration.
//
// # TestMain
//
// Every test package of respwire calls Main from its TestMain. Main starts
// what the package needs once, runs the tests under goleak.VerifyTestMain and
// stops every server before goleak looks and before the binary exits:
//
//	func TestMain(m *testing.M) {
//		redistest.Main(m, redistest.NeedServer|redistest.NeedCluster)
//	}
//
//	func TestGet(t *testing.T) {
//		addr := redistest.Server().Addr
//		seeds := redistest.Cluster().Addrs()
//		...
//	}
//
// If redis-server is not on PATH, Main runs no test and exits with status 1
// and a message naming the Debian package (redis-server). To use servers
// that already run, set REDIS_ADDR=host:port and/or
// REDIS_CLUSTER_ADDRS=host:port,host:port,...; the helpers that need a
// process (Kill, Restart, Pause, Resume) then return ErrExternal.
//
// # Servers
//
// Each server runs in its own temporary directory with its own redis.conf,
// on a free loopback port, without persistence (save "", appendonly no) and
// with DEBUG allowed. StartNode starts extra ones (TLS, requirepass, cluster
// mode, extra directives); NewNode does it for one test and stops it at its
// end. Node.Do sends one admin command on a short-lived connection of its
// own.
//
// Servers die with the test binary however it ends: on Linux each is forked
// from one locked OS thread with Pdeathsig, in its own process group; Main's
// teardown and a SIGINT/SIGTERM handler stop them too, and Main fails the run
// if a redis-server child survives teardown.
//
// # Cluster
//
// The cluster is built without redis-cli: slot ranges, CLUSTER MEET between
// every pair, CLUSTER REPLICATE, then WaitHealthy. The node timeout is 2 s,
// so a killed master is replaced within seconds. Tests share the package's
// cluster: one that migrates a slot, fails over, kills or pauses a node must
// leave it healthy (WaitHealthy) for the next; NewCluster gives a test a
// private cluster for about two seconds of startup.
package redistest
