package resp_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/respwire/respwire/internal/redistest"
)

// TestMain starts one redis-server for the live tests and checks for leaked
// goroutines.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(redistest.Setup(m, redistest.NeedServer))
}
