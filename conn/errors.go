package conn

import "errors"

// ErrClosed is wrapped by every error that a call gets because the Conn is
// closed or closing: after Close, and when the connection broke underneath.
// Test for it with errors.Is.
var ErrClosed = errors.New("conn: connection closed")

// lostError says why a Conn closed by itself: the socket broke or the peer
// sent something the reader could not decode. It wraps both ErrClosed and the
// cause, so errors.Is works for either.
type lostError struct {
	cause error
}

func (e *lostError) Error() string { return "conn: connection lost: " + e.cause.Error() }

func (e *lostError) Unwrap() []error { return []error{ErrClosed, e.cause} }

// connectionLost wraps cause in a lostError.
func connectionLost(cause error) error { return &lostError{cause: cause} }
