//go:build !race

package pubsub

// raceEnabled: the race detector makes sync.Pool drop items at random and
// adds allocations of its own, so allocation counts mean nothing under it.
const raceEnabled = false
