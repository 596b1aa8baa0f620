package resp_test

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// rawConn is a plain TCP connection to the harness server that speaks
// through Reader and AppendCommand only, so the live tests exercise the codec
// and nothing above it.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *resp.Reader
}

func dialRaw(t *testing.T, proto int) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", redistest.Server().Addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	// A server that stops answering fails the test instead of hanging it.
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	c := &rawConn{t: t, conn: conn, r: resp.NewReader(conn)}
	hello := c.do("HELLO", strconv.Itoa(proto))
	require.NoError(t, hello.Err())
	return c
}

func (c *rawConn) send(args ...string) {
	c.t.Helper()
	_, err := c.conn.Write(resp.AppendCommand(nil, args...))
	require.NoError(c.t, err)
}

func (c *rawConn) read() resp.Value {
	c.t.Helper()
	v, err := c.r.Read()
	require.NoError(c.t, err)
	return v
}

func (c *rawConn) do(args ...string) resp.Value {
	c.t.Helper()
	c.send(args...)
	return c.read()
}

// TestLiveDebugProtocol asks the harness server for every type DEBUG
// PROTOCOL knows, in RESP3 and in RESP2, and checks the decoded values
// against the golden ones.
func TestLiveDebugProtocol(t *testing.T) {
	for _, proto := range []struct {
		version int
		want    map[string][]resp.Value
	}{{3, wantRESP3}, {2, wantRESP2}} {
		t.Run("RESP"+strconv.Itoa(proto.version), func(t *testing.T) {
			c := dialRaw(t, proto.version)
			for _, typ := range debugProtocolTypes {
				c.send("DEBUG", "PROTOCOL", typ)
				for i, want := range proto.want[typ] {
					got := c.read()
					require.True(t, want.Equal(got), "%s frame %d: got %#v\nwant %#v", typ, i, got, want)
				}
			}
			// Nothing is left over: the next reply is the next command's.
			require.Equal(t, "PONG", text(t, c.do("PING")))
		})
	}
}

// TestLiveHello decodes the map HELLO 3 answers with and the array RESP2
// answers with.
func TestLiveHello(t *testing.T) {
	c := dialRaw(t, 3)
	hello := c.do("HELLO", "3")
	require.Equal(t, resp.Map, hello.Kind())
	fields := map[string]resp.Value{}
	for i := 0; i+1 < len(hello.Elems()); i += 2 {
		fields[text(t, hello.Elems()[i])] = hello.Elems()[i+1]
	}
	require.Equal(t, "redis", text(t, fields["server"]))
	proto, err := fields["proto"].Int()
	require.NoError(t, err)
	require.Equal(t, int64(3), proto)
	require.Equal(t, resp.Array, fields["modules"].Kind())

	c2 := dialRaw(t, 2)
	hello2 := c2.do("HELLO", "2")
	require.Equal(t, resp.Array, hello2.Kind())
	require.Equal(t, 2*hello.Len(), hello2.Len())
}

// TestLivePipelinedValues writes a batch of commands in one write and reads
// the replies back with a small buffer, so values straddle buffer refills
// and socket reads; a large value exercises the path that reads bulks
// straight into their own memory.
func TestLivePipelinedValues(t *testing.T) {
	c := dialRaw(t, 3)
	key := "resp:live:" + t.Name()
	large := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	var batch []byte
	batch = resp.AppendCommand(batch, "DEL", key, key+":list")
	batch = resp.AppendCommand(batch, "SET", key, large)
	batch = resp.AppendCommand(batch, "GET", key)
	batch = resp.AppendCommand(batch, "RPUSH", key+":list", "a", "", "c\r\n")
	batch = resp.AppendCommand(batch, "LRANGE", key+":list", "0", "-1")
	batch = resp.AppendCommand(batch, "GET", key+":missing")
	batch = resp.AppendCommand(batch, "INCRBYFLOAT", key+":f", "1.5")
	batch = resp.AppendCommand(batch, "NOSUCHCOMMAND")
	batch = resp.AppendCommand(batch, "DEL", key, key+":list", key+":f")
	require.Zero(t, c.r.Buffered(), "nothing unread before switching readers")
	c.r = resp.NewReaderSize(c.conn, 64)
	_, err := c.conn.Write(batch)
	require.NoError(t, err)

	c.read() // DEL
	require.Equal(t, "OK", text(t, c.read()))
	require.True(t, bytes.Equal([]byte(large), []byte(text(t, c.read()))), "GET returned the 1 MiB value intact")
	n, err := c.read().Int()
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
	require.True(t, resp.NewArray(resp.NewBulkString("a"), resp.NewBulkString(""), resp.NewBulkString("c\r\n")).Equal(c.read()))
	require.True(t, c.read().IsNull())
	f, err := c.read().Float()
	require.NoError(t, err)
	require.Equal(t, 1.5, f)
	errReply := c.read()
	require.Equal(t, resp.SimpleError, errReply.Kind())
	require.ErrorContains(t, errReply.Err(), "unknown command")
	n, err = c.read().Int()
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
}

func text(t *testing.T, v resp.Value) string {
	t.Helper()
	s, err := v.Text()
	require.NoError(t, err)
	return s
}
