package cluster

import (
	"testing"

	"github.com/respwire/respwire/internal/redistest"
)

func TestMain(m *testing.M) {
	redistest.Main(m, redistest.NeedCluster)
}
