package conn

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks for leaked goroutines. The server-backed tests join once
// internal/redistest lands.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
