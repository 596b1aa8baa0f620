package resp_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// debugProtocolTypes are the types DEBUG PROTOCOL knows.
var debugProtocolTypes = []string{
	"string", "integer", "double", "bignum", "null", "array", "set", "map",
	"attrib", "push", "verbatim", "true", "false",
}

// wantRESP3 and wantRESP2 are the frames of each type's golden file: what
// redis-server 7.0.15 answers to DEBUG PROTOCOL <type> after HELLO 3 and
// HELLO 2.
var (
	attribReply = resp.NewBulkString("Some real reply following the attribute")
	ints012     = []resp.Value{resp.NewInt(0), resp.NewInt(1), resp.NewInt(2)}
	wantRESP3   = map[string][]resp.Value{
		"string":  {resp.NewBulkString("Hello World")},
		"integer": {resp.NewInt(12345)},
		"double":  {resp.NewDouble(3.141)},
		"bignum":  {resp.NewBigNumber("1234567999999999999999999999999999999")},
		"null":    {resp.NewNull()},
		"array":   {resp.NewArray(ints012...)},
		"set":     {resp.NewSet(ints012...)},
		"map": {resp.NewMap(resp.NewInt(0), resp.NewBool(false), resp.NewInt(1), resp.NewBool(true),
			resp.NewInt(2), resp.NewBool(false))},
		"attrib": {attribReply.WithAttrs(resp.NewBulkString("key-popularity"),
			resp.NewArray(resp.NewBulkString("key:123"), resp.NewInt(90)))},
		"push": {
			resp.NewPush(resp.NewBulkString("server-cpu-usage"), resp.NewInt(42)),
			resp.NewBulkString("Some real reply following the push reply"),
		},
		"verbatim": {resp.NewVerbatim("txt", "This is a verbatim\nstring")},
		"true":     {resp.NewBool(true)},
		"false":    {resp.NewBool(false)},
	}
	wantRESP2 = map[string][]resp.Value{
		"string":  {resp.NewBulkString("Hello World")},
		"integer": {resp.NewInt(12345)},
		"double":  {resp.NewBulkString("3.141")},
		"bignum":  {resp.NewBulkString("1234567999999999999999999999999999999")},
		"null":    {resp.NewNullBulk()},
		"array":   {resp.NewArray(ints012...)},
		"set":     {resp.NewArray(ints012...)},
		"map": {resp.NewArray(resp.NewInt(0), resp.NewInt(0), resp.NewInt(1), resp.NewInt(1),
			resp.NewInt(2), resp.NewInt(0))},
		"attrib":   {attribReply},
		"push":     {resp.NewSimpleError("ERR RESP2 is not supported by this command")},
		"verbatim": {resp.NewBulkString("This is a verbatim\nstring")},
		"true":     {resp.NewInt(1)},
		"false":    {resp.NewInt(0)},
	}
)

func TestGoldenFrames(t *testing.T) {
	for _, proto := range []struct {
		dir  string
		want map[string][]resp.Value
	}{{"resp3", wantRESP3}, {"resp2", wantRESP2}} {
		for _, typ := range debugProtocolTypes {
			t.Run(proto.dir+"/"+typ, func(t *testing.T) {
				raw, err := os.ReadFile(filepath.Join("..", "testdata", "resp", proto.dir, typ+".bin"))
				require.NoError(t, err)
				got := readAll(t, raw)
				want := proto.want[typ]
				require.Len(t, got, len(want), "frames in %q", raw)
				for i := range want {
					require.True(t, want[i].Equal(got[i]), "frame %d: got %#v\nwant %#v", i, got[i], want[i])
					require.Equal(t, want[i].Kind(), got[i].Kind())
				}
				// What the reader decoded, the encoder writes back byte for byte.
				var again []byte
				for _, v := range got {
					if proto.dir == "resp3" {
						again = resp.AppendValue(again, v)
					} else {
						again = resp.AppendValue2(again, v)
					}
				}
				require.Equal(t, string(raw), string(again))
			})
		}
	}
}

// readAll decodes every frame in raw.
func readAll(t *testing.T, raw []byte) []resp.Value {
	t.Helper()
	r := resp.NewReader(bytes.NewReader(raw))
	var values []resp.Value
	for {
		v, err := r.Read()
		if err == io.EOF {
			return values
		}
		require.NoError(t, err)
		values = append(values, v)
	}
}
