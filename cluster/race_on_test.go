//go:build race

package cluster

// raceEnabled: the race detector changes allocation counts (sync.Pool drops
// a quarter of what it is given), so allocation tests skip under it.
const raceEnabled = true
