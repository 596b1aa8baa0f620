package redistest

import (
	"path/filepath"
	"testing"
)

// logTailSize is how much of a server's log LogOnFailure shows.
const logTailSize = 4096

// LogTail returns the last size bytes of the server's log (empty for an
// external node).
func (n *Node) LogTail(size int) string {
	if n.external {
		return ""
	}
	return string(logTail(filepath.Join(n.dir, logFile), int64(size)))
}

// LogOnFailure makes t log the end of every node's server log if t fails:
// elections, failovers and resyncs, to tell a client bug from a cluster that
// was not where the test thought it was.
func (c *TestCluster) LogOnFailure(t testing.TB) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, n := range c.nodes {
			t.Logf("redistest: end of %s's log:\n%s", n, n.LogTail(logTailSize))
		}
	})
}
