package resp

import (
	"errors"
	"io"
	"strings"
)

// ErrProtocol is wrapped by every error that reports malformed input: use
// errors.Is(err, ErrProtocol). After such an error the stream is out of step
// and the Reader (and its connection) should be discarded.
var ErrProtocol = errors.New("resp: protocol error")

// ErrTooLarge is wrapped by the errors a Reader returns when input exceeds one
// of its limits (SetMaxBulkLen, SetMaxDepth). It wraps ErrProtocol.
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

// kindError is what an accessor returns for a value of the wrong kind.
type kindError struct {
	method string
	kind   Kind
}

func (e *kindError) Error() string { return "resp: " + e.method + " on " + e.kind.String() }
func (e *kindError) Unwrap() error { return ErrWrongKind }
