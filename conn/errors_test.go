package conn

import (
	"errors"
	"fmt"
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

// retryVerdict is an error of another layer that says for itself whether
// its command may be sent again.
type retryVerdict struct{ safe bool }

func (e retryVerdict) Error() string     { return "other layer" }
func (e retryVerdict) SafeToRetry() bool { return e.safe }

func TestSafeToRetryAsksTheChain(t *testing.T) {
	unsent := &unsentError{cause: ErrClosed}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("plain"), false},
		{ErrClosed, false},
		{connectionLost(errors.New("EOF")), false},
		{unsent, true},
		{fmt.Errorf("cluster: node a: %w", unsent), true},
		{retryVerdict{safe: true}, true},
		{fmt.Errorf("wrapped: %w", retryVerdict{safe: true}), true},
		{retryVerdict{safe: false}, false},
		// The outermost error that answers decides.
		{fmt.Errorf("x: %w", &wrapVerdict{retryVerdict{false}, unsent}), false},
	} {
		assert.Equal(t, tc.want, SafeToRetry(tc.err), "%v", tc.err)
	}
}

// wrapVerdict answers for itself and wraps another error.
type wrapVerdict struct {
	retryVerdict
	inner error
}

func (e *wrapVerdict) Unwrap() error { return e.inner }

func TestSocketOwnerString(t *testing.T) {
	assert.Equal(t, "reader", readByReader.String())
	assert.Equal(t, "lent", readLent.String())
	assert.Equal(t, "caller", readByCaller.String())
	assert.Equal(t, "socketOwner(9)", socketOwner(9).String())
}
