package resp

import (
	"errors"
	"io"
	"strings"
)

// ErrProtocol is wrapped by every error that reports malformed input: use
// errors.Is(err, ErrProtocol). After such an error the stream is out of step
// and the Reader (and its connection) should be discarded, unless the error
// is a *SkippedError: then only that one reply was lost.
var ErrProtocol = errors.New("resp: protocol error")

// ErrTooLarge is wrapped by the errors a Reader returns when input exceeds one
// of its limits (SetMaxBulkLen, SetMaxElements, SetMaxDepth). It wraps
// ErrProtocol. Over SetMaxBulkLen or SetMaxElements, the error is a
// *SkippedError and the Reader is still in step.
var ErrTooLarge error = &sentinelError{msg: "resp: input exceeds a reader limit", parent: ErrProtocol}

// ErrWrongKind is wrapped by the errors Value's accessors return when the
// value's kind does not hold what was asked for, such as Int on a map.
var ErrWrongKind = errors.New("resp: wrong kind")

// Error is an error reply from the server: a simple error or a bulk error.
type Error struct {
	// Code is the first word of the reply, such as "ERR", "MOVED" or "WRONGTYPE".
	Code string
	// Message is the whole reply, such as "MOVED 3999 127.0.0.1:6381".
	Message string
}

// Error returns the server's text unchanged, without a "resp:" prefix: the
// error was produced by the server, not by this package, and callers compare
// it with what redis-cli and the Redis documentation show.
func (e *Error) Error() string { return e.Message }

// ParseError splits a server error text into its code and message.
func ParseError(text string) *Error {
	code, _, _ := strings.Cut(text, " ")
	return &Error{Code: code, Message: text}
}

// SkippedError is what Read returns for one reply it read to its end but
// could not keep: over SetMaxElements or SetMaxBulkLen by a declared length
// or count, or holding a malformed scalar (a bad double, integer, boolean,
// big number, null or verbatim string) whose line or body was whole. Read consumed the entire
// reply, keeping nothing of it (memory stays bounded), so the Reader is still
// in step: the next Read returns the next reply.
//
// Input that loses the framing (an unknown type byte, a bad length, a
// missing CRLF, nesting past SetMaxDepth, the stream ending) and streamed
// strings, streamed aggregates or lines that go past a limit (no length
// declares where they end) are never skipped: those errors are not SkippedErrors, even when they interrupt the
// skipping of a reply, and the Reader must be discarded.
type SkippedError struct {
	// Kind is the type of the skipped reply, such as Array or Push: the
	// outermost one, not the element that was over the limit.
	Kind Kind
	// Err is why it was skipped. It wraps ErrTooLarge for a limit, and
	// ErrProtocol in every case.
	Err error
}

func (e *SkippedError) Error() string {
	return e.Err.Error() + " (the whole " + e.Kind.String() + " reply was read and dropped)"
}

func (e *SkippedError) Unwrap() error { return e.Err }

// sentinelError is an exported sentinel that is itself a kind of another one.
type sentinelError struct {
	msg    string
	parent error
}

func (e *sentinelError) Error() string { return e.msg }
func (e *sentinelError) Unwrap() error { return e.parent }

// protocolError is one malformed-input failure with a precise message. It
// wraps ErrProtocol, ErrTooLarge, or both ErrProtocol and io.ErrUnexpectedEOF.
type protocolError struct {
	msg  string
	kind []error
}

func (e *protocolError) Error() string   { return e.msg }
func (e *protocolError) Unwrap() []error { return e.kind }

var (
	wrapProtocol   = []error{ErrProtocol}
	wrapTooLarge   = []error{ErrTooLarge}
	wrapUnexpected = []error{ErrProtocol, io.ErrUnexpectedEOF}
)

func errorf(msg string) error   { return &protocolError{msg: msg, kind: wrapProtocol} }
func tooLarge(msg string) error { return &protocolError{msg: msg, kind: wrapTooLarge} }
func truncated(in string) error {
	return &protocolError{msg: "resp: unexpected EOF in " + in, kind: wrapUnexpected}
}

// whileSkipping reports err, which broke the stream, as having struck while
// the Reader was reading past a reply for reason: the error wraps both.
func whileSkipping(err, reason error) error {
	return &protocolError{
		msg:  err.Error() + ", while skipping a reply: " + reason.Error(),
		kind: []error{err, reason},
	}
}

// kindError is what an accessor returns for a value of the wrong kind.
type kindError struct {
	method string
	kind   Kind
}

func (e *kindError) Error() string { return "resp: " + e.method + " on " + e.kind.String() }
func (e *kindError) Unwrap() error { return ErrWrongKind }
