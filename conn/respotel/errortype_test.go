package respotel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/resp"
)

func TestErrorType(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name       string
		err        error
		want, code string
	}{
		{"server error", &resp.Error{Code: "WRONGTYPE", Message: "WRONGTYPE ..."}, "WRONGTYPE", "WRONGTYPE"},
		{"wrapped server error", fmt.Errorf("cluster: node x: %w", &resp.Error{Code: "CLUSTERDOWN"}), "CLUSTERDOWN", "CLUSTERDOWN"},
		{"server error without a code", &resp.Error{Message: ""}, "_OTHER", ""},
		{"deadline", context.DeadlineExceeded, "context.DeadlineExceeded", ""},
		{"deadline wrapping a dial error", errors.Join(context.DeadlineExceeded, refused), "context.DeadlineExceeded", ""},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), "context.Canceled", ""},
		{"silent wraps closed", errors.Join(conn.ErrSilent, conn.ErrClosed), "conn.ErrSilent", ""},
		{"lost to EOF", errors.Join(conn.ErrClosed, io.EOF), "io.EOF", ""},
		{"lost to a protocol error", errors.Join(conn.ErrClosed, fmt.Errorf("%w: bad byte", resp.ErrProtocol)), "resp.ErrProtocol", ""},
		{"lost to a timeout", errors.Join(conn.ErrClosed, timeout), "timeout", ""},
		{"refused dial", refused, "*net.OpError", ""},
		{"closed", fmt.Errorf("conn: %w", conn.ErrClosed), "conn.ErrClosed", ""},
		{"shared state", conn.ErrSharedState, "conn.ErrSharedState", ""},
		{"cross slot", cluster.ErrCrossSlot, "cluster.ErrCrossSlot", ""},
		{"slot moved", cluster.ErrSlotMoved, "cluster.ErrSlotMoved", ""},
		{"anonymous", errors.New("something"), "_OTHER", ""},
		{"anonymous wrapped", fmt.Errorf("a: %w", errors.New("b")), "_OTHER", ""},
		{"typed behind fmt", fmt.Errorf("a: %w", &os.PathError{Op: "open", Err: os.ErrNotExist}), "*fs.PathError", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code := errorType(tc.err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.code, code)
		})
	}
}
