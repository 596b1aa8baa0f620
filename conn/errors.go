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

// unsentError marks the failure of a command that was never written, so the
// server cannot have run it. It reads as its cause.
type unsentError struct {
	cause error
}

func (e *unsentError) Error() string { return e.cause.Error() }

func (e *unsentError) Unwrap() error { return e.cause }

// SafeToRetry is implemented by this package's error for a command that
// was never written: it answers true.
func (e *unsentError) SafeToRetry() bool { return true }

// SafeToRetry reports whether err is the failure of a command that was never
// written to the socket: refused because the Conn was closing or closed, or
// still waiting in the write buffer when it closed. Such a command can be sent
// again, on another Conn, without the risk of running it twice. A command
// that failed after it was written (its Conn broke while it waited for its
// reply, or its context ended) may have run.
//
// It asks the first error in err's chain that has a method SafeToRetry() bool
// (as pgconn does), so an error of any layer can answer: this package's
// unsent-command error answers true, and a layer above can wrap it with an
// error of its own that answers for itself.
func SafeToRetry(err error) bool {
	var r interface{ SafeToRetry() bool }
	return errors.As(err, &r) && r.SafeToRetry()
}
