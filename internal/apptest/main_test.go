package apptest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/respwire/respwire/internal/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(redistest.Setup(m, redistest.NeedServer|redistest.NeedCluster))
}
