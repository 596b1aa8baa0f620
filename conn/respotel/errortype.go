package respotel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

// otherErrorType is the conventions' error.type for an error that has no
// better name.
const otherErrorType = "_OTHER"

// sentinels name the errors that error.type reports by name, in the order
// they are looked for: the first one err wraps wins. conn.ErrSilent comes
// before conn.ErrClosed, which it wraps, and a lost connection's cause
// (EOF, a timeout, a protocol error) before the conn.ErrClosed its error
// wraps too.
var sentinels = []struct {
	err  error
	name string
}{
	{context.DeadlineExceeded, "context.DeadlineExceeded"},
	{context.Canceled, "context.Canceled"},
	{conn.ErrSilent, "conn.ErrSilent"},
	{resp.ErrProtocol, "resp.ErrProtocol"},
	{io.EOF, "io.EOF"},
	{io.ErrUnexpectedEOF, "io.ErrUnexpectedEOF"},
}

// laterSentinels are looked for after net.Error.
var laterSentinels = []struct {
	err  error
	name string
}{
	{conn.ErrClosed, "conn.ErrClosed"},
	{conn.ErrSharedState, "conn.ErrSharedState"},
	{cluster.ErrCrossSlot, "cluster.ErrCrossSlot"},
	{cluster.ErrSlotMoved, "cluster.ErrSlotMoved"},
}

// errorType returns err's error.type and, for a server's error reply, its
// db.response.status_code (the reply's prefix, which is its error.type too).
// See the package documentation, Errors.
func errorType(err error) (errType, statusCode string) {
	var re *resp.Error
	if errors.As(err, &re) {
		if re.Code == "" {
			return otherErrorType, ""
		}
		return re.Code, re.Code
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name, ""
		}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return "timeout", ""
		}
		return typeName(ne), ""
	}
	for _, s := range laterSentinels {
		if errors.Is(err, s.err) {
			return s.name, ""
		}
	}
	return typeName(err), ""
}

var (
	fmtWrapType = reflect.TypeOf(fmt.Errorf("%w", io.EOF))
	// anonymousTypes are the types of errors.New, fmt.Errorf and
	// errors.Join, which say nothing of what went wrong.
	anonymousTypes = map[reflect.Type]bool{
		reflect.TypeOf(errors.New("")): true,
		fmtWrapType:                    true,
		reflect.TypeOf(fmt.Errorf("%w %w", io.EOF, io.EOF)): true,
		reflect.TypeOf(errors.Join(io.EOF, io.EOF)):         true,
	}
)

// typeName is the Go type of err behind fmt.Errorf's single-%w wrappers,
// such as "*net.OpError"; "_OTHER" for the types of errors.New and
// fmt.Errorf, which say nothing.
func typeName(err error) string {
	for reflect.TypeOf(err) == fmtWrapType {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	t := reflect.TypeOf(err)
	if anonymousTypes[t] {
		return otherErrorType
	}
	return t.String()
}
