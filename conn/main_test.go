package conn

import (
	"context"
	"strconv"
	"testing"

	"go.uber.org/goleak"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(redistest.Setup(m, redistest.NeedServer))
}

// testTimeout bounds every test's calls, so a bug fails a test instead of
// hanging the run.
const testTimeout = 30 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// dialTest dials the package's server and closes the Conn when the test ends.
func dialTest(t testing.TB, opts *Options) *Conn {
	t.Helper()
	return dialNode(t, redistest.Server(), opts)
}

func dialNode(t testing.TB, n *redistest.Node, opts *Options) *Conn {
	t.Helper()
	c, err := Dial(testContext(t), n.Addr, opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// text returns v's text, failing the test when v holds none.
func text(t testing.TB, v resp.Value) string {
	t.Helper()
	s, err := v.Text()
	require.NoError(t, err, "reply %v", v)
	return s
}

// clientID is the server-side ID of c's connection.
func clientID(t testing.TB, c *Conn) string {
	t.Helper()
	v, err := c.Do(testContext(t), "CLIENT", "ID")
	require.NoError(t, err)
	n, err := v.Int()
	require.NoError(t, err)
	return strconv.FormatInt(n, 10)
}
