// Package redistest starts throwaway redis-server processes, standalone and a
// 3-master, 3-replica cluster, for tests and benchmarks, and injects faults.
package redistest
