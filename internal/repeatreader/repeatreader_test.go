package repeatreader

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestReadGoesOn checks that every Read fills p, going on where the last one
// stopped and round the frame again.
func TestReadGoesOn(t *testing.T) {
	r := New("abc")
	p := make([]byte, 4)
	n, err := r.Read(p)
	assert.NoError(t, err)
	assert.Equal(t, "abca", string(p[:n]))
	n, err = r.Read(p[:2])
	assert.NoError(t, err)
	assert.Equal(t, "bc", string(p[:n]))
	n, err = r.Read(p)
	assert.NoError(t, err)
	assert.Equal(t, "abca", string(p[:n]))
}
