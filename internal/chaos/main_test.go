package chaos

import (
	"testing"

	"github.com/respwire/respwire/internal/redistest"
)

func TestMain(m *testing.M) {
	redistest.Main(m, redistest.NeedServer|redistest.NeedCluster|redistest.NeedTLSServer|redistest.NeedTLSCluster)
}
