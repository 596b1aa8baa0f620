package resp_test

import (
	"testing"

	"github.com/respwire/respwire/internal/redistest"
)

// TestMain starts one redis-server for the live tests and checks for leaked
// goroutines (redistest.Main runs goleak.VerifyTestMain).
func TestMain(m *testing.M) {
	redistest.Main(m, redistest.NeedServer)
}
