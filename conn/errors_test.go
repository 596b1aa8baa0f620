package conn

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStateString(t *testing.T) {
	assert.Equal(t, "open", StateOpen.String())
	assert.Equal(t, "closing", StateClosing.String())
	assert.Equal(t, "closed", StateClosed.String())
	assert.Equal(t, "State(7)", State(7).String())
}

func TestLostErrorWrapsBoth(t *testing.T) {
	cause := errors.New("read tcp: EOF")
	err := connectionLost(cause)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, cause)
	assert.Equal(t, "conn: connection lost: read tcp: EOF", err.Error())
}
