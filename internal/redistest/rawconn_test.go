package redistest

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// rawConn is a bare RESP2 connection for checking what a server allows,
// without going through Node.Do's AUTH and TLS set-up.
type rawConn struct {
	c net.Conn
	r *resp.Reader
}

func dialRaw(t *testing.T, addr string, cfg *tls.Config) *rawConn {
	t.Helper()
	var c net.Conn
	var err error
	if cfg != nil {
		c, err = tls.Dial("tcp", addr, cfg)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, r: resp.NewReader(c)}
}

func (rc *rawConn) do(args ...string) (resp.Value, error) {
	rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.c.Write(resp.AppendCommand(nil, args...)); err != nil {
		return resp.Value{}, err
	}
	v, err := rc.r.Read()
	if err != nil {
		return v, err
	}
	return v, v.Err()
}
