package slots

import (
	"flag"
	"testing"

	"go.uber.org/goleak"

	"github.com/respwire/respwire/internal/redistest"
)

// TestMain starts the harness's 3-master, 3-replica cluster for the live
// tests and checks for leaked goroutines. A fuzzing worker process (go test
// -fuzz starts several) runs only the fuzz target, which needs no server.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		goleak.VerifyTestMain(m)
		return
	}
	goleak.VerifyTestMain(redistest.Setup(m, redistest.NeedCluster))
}
