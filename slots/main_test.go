package slots

import (
	"testing"

	"github.com/respwire/respwire/internal/redistest"
)

// TestMain starts the harness's 3-master, 3-replica cluster for the live
// tests and checks for leaked goroutines.
func TestMain(m *testing.M) {
	redistest.Main(m, redistest.NeedCluster)
}
