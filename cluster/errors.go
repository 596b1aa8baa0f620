package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
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
// the call could not be made because of cause. errors.Is and errors.As find
// both.
type causedError struct {
	err, cause error
}

func (e *causedError) Error() string {
	return "cluster: retrying after " + strings.TrimPrefix(e.cause.Error(), "cluster: ") + ": " + e.err.Error()
}

func (e *causedError) Unwrap() []error { return []error{e.err, e.cause} }

// withCause returns err with cause attached, or err alone when cause is nil.
func withCause(err, cause error) error {
	if cause == nil {
		return err
	}
	return &causedError{err: err, cause: cause}
}

// callError is a call's failure on a node that is not the server's reply:
// its context ended while it waited for the node, or the node's connection
// broke under it. It names the node, says what the Client knew of it at
// that moment and wraps both the call's error and, when known, the node's
// last connection failure (a dial error, say), so that errors.Is(err,
// context.DeadlineExceeded) still holds.
type callError struct {
	addr  string
	state string // "connection down, redialling", "not answering", ...
	err   error
	cause error // the node's last connection failure, or nil
}

func (e *callError) Error() string {
	s := "cluster: node " + e.addr + " " + e.state
	if e.cause != nil {
		s += " (last failure: " + strings.TrimPrefix(e.cause.Error(), "cluster: ") + ")"
	}
	return s + ": " + e.err.Error()
}

// SafeToRetry answers for the call's own error, not for the node's last
// failure it carries: a call whose context ended may have been written even
// if an earlier dial of the node failed unsent (see conn.SafeToRetry).
func (e *callError) SafeToRetry() bool { return conn.SafeToRetry(e.err) }

func (e *callError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.err}
	}
	return []error{e.err, e.cause}
}

// failedOn returns err, a call's failure on n, as a callError naming n,
// unless it already names a node or is a server reply.
func failedOn(n *node, err error) error {
	var ne *nodeError
	var ce *callError
	var fe *failedNodeError
	var re *resp.Error
	if n == nil || errors.As(err, &ne) || errors.As(err, &ce) || errors.As(err, &fe) || errors.As(err, &re) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &callError{addr: n.addr, state: n.describe(), err: err, cause: n.lastFailure()}
	}
	return &callError{addr: n.addr, state: "failed", err: err}
}

// namedCause returns err, an unsent failure on n that a retry will follow,
// naming n and what its connection is doing, unless it already names a node.
func namedCause(n *node, err error) error {
	var ne *nodeError
	var ce *callError
	var fe *failedNodeError
	if n == nil || errors.As(err, &ne) || errors.As(err, &ce) || errors.As(err, &fe) {
		return err
	}
	return &callError{addr: n.addr, state: n.describe(), err: err}
}

// failedNodeError is the error of a call to the slots of a master that the
// cluster reports failed (CLUSTER SHARDS health "failed") and that has no
// live replica to take its slots over: the call was not sent.
type failedNodeError struct {
	addr string
}

func (e *failedNodeError) Error() string {
	return "cluster: node " + e.addr + " is reported failed by the cluster and has no live replica to take over its slots; call not sent"
}

// SafeToRetry answers true: the call was refused before it was sent.
func (e *failedNodeError) SafeToRetry() bool { return true }
