package cluster

import (
	"errors"
	"fmt"
	"net"

	"github.com/respwire/respwire/conn"
)

// ErrCrossSlot is returned for a multi-key command whose keys hash to
// different slots. Such a command is refused before it is sent.
var ErrCrossSlot = errors.New("cluster: keys in request don't hash to the same slot")

var (
	// errClosed is what calls on a closed Client return.
	errClosed    = fmt.Errorf("cluster: client closed: %w", conn.ErrClosed)
	errNoCommand = errors.New("cluster: empty command")
	errNoNode    = errors.New("cluster: no node serves the slot")
)

// crossSlot is the error for the command name whose keys span slots.
func crossSlot(name string) error {
	return fmt.Errorf("%w (%s)", ErrCrossSlot, name)
}

// errReplyCount reports a node that answered a batch with the wrong number
// of replies.
var errReplyCount = errors.New("cluster: reply count does not match the batch")

// unsent tells whether a command that failed with err surely never reached
// the server, so sending it again can't run it twice: the node couldn't be
// dialled, no node serves the slot, or the connection says so
// (conn.SafeToRetry). Any other error wrapping conn.ErrClosed means the
// command may have been written.
func unsent(err error) bool {
	var ne *nodeError
	return errors.As(err, &ne) || errors.Is(err, errNoNode) || conn.SafeToRetry(err)
}

// brokenNode tells whether err means the node's connection broke or the
// node stopped answering: a reason to read the topology again.
func brokenNode(err error) bool {
	var ne net.Error
	return errors.Is(err, conn.ErrClosed) || errors.As(err, &ne)
}

// causedError is a context's error at the end of a call that was waiting
// to try again, with the failure that made it wait: the context ended, but
// the call could not be made because of cause. errors.Is finds both.
type causedError struct {
	err, cause error
}

func (e *causedError) Error() string {
	return "cluster: " + e.cause.Error() + ", then: " + e.err.Error()
}

func (e *causedError) Unwrap() []error { return []error{e.err, e.cause} }

// withCause returns err with cause attached, or err alone when cause is nil.
func withCause(err, cause error) error {
	if cause == nil {
		return err
	}
	return &causedError{err: err, cause: cause}
}
