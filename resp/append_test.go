package resp_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/respwire/respwire/resp"
)

func TestAppendCommand(t *testing.T) {
	assert.Equal(t, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n",
		string(resp.AppendCommand(nil, "SET", "key", "")))
	assert.Equal(t, "*0\r\n", string(resp.AppendCommand(nil)))
	long := make([]string, 12)
	for i := range long {
		long[i] = "0123456789"
	}
	got := resp.AppendCommand([]byte("prefix"), long...)
	assert.Equal(t, "prefix*12\r\n$10\r\n0123456789\r\n", string(got[:len("prefix*12\r\n$10\r\n0123456789\r\n")]))
	for _, n := range []int{9, 10, 42, 99, 100, 12345} {
		arg := strings.Repeat("x", n)
		assert.Equal(t, "*1\r\n$"+strconv.Itoa(n)+"\r\n"+arg+"\r\n", string(resp.AppendCommand(nil, arg)), "an argument of %d bytes", n)
	}
	assert.Equal(t, string(resp.AppendCommand(nil, "GET", "k")),
		string(resp.AppendCommandBytes(nil, []byte("GET"), []byte("k"))))
}

func TestAppendFrames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{string(resp.AppendSimpleString(nil, "OK")), "+OK\r\n"},
		{string(resp.AppendSimpleString(nil, "a\r\nb")), "+a  b\r\n"},
		{string(resp.AppendSimpleError(nil, "ERR bad\nthing")), "-ERR bad thing\r\n"},
		{string(resp.AppendBulkError(nil, "ERR x")), "!5\r\nERR x\r\n"},
		{string(resp.AppendVerbatim(nil, "txt", "hi")), "=6\r\ntxt:hi\r\n"},
		{string(resp.AppendInt(nil, -12)), ":-12\r\n"},
		{string(resp.AppendNull(nil)), "_\r\n"},
		{string(resp.AppendNullBulk(nil)), "$-1\r\n"},
		{string(resp.AppendNullArray(nil)), "*-1\r\n"},
		{string(resp.AppendBool(nil, true)), "#t\r\n"},
		{string(resp.AppendBool(nil, false)), "#f\r\n"},
		{string(resp.AppendDouble(nil, 1.5)), ",1.5\r\n"},
		{string(resp.AppendDouble(nil, math.Inf(-1))), ",-inf\r\n"},
		{string(resp.AppendDouble(nil, math.NaN())), ",nan\r\n"},
		{string(resp.AppendDouble(nil, 1e300)), ",1e+300\r\n"},
		{string(resp.AppendBigNumber(nil, "-123")), "(-123\r\n"},
		{string(resp.AppendArrayHeader(nil, 12)), "*12\r\n"},
		{string(resp.AppendBulkHeader(nil, 16384)), "$16384\r\n"},
		{string(resp.AppendBulkHeader(nil, 0)), "$0\r\n"},
		{string(resp.AppendMapHeader(nil, 1)), "%1\r\n"},
		{string(resp.AppendSetHeader(nil, 0)), "~0\r\n"},
		{string(resp.AppendPushHeader(nil, 3)), ">3\r\n"},
		{string(resp.AppendAttributeHeader(nil, 2)), "|2\r\n"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.got)
	}
}

func TestAppendValue(t *testing.T) {
	v := resp.NewPush(resp.NewBulkString("message"), resp.NewMap(resp.NewSimpleString("k"), resp.NewNull())).
		WithAttrs(resp.NewSimpleString("a"), resp.NewBool(true))
	assert.Equal(t, "|1\r\n+a\r\n#t\r\n>2\r\n$7\r\nmessage\r\n%1\r\n+k\r\n_\r\n", string(resp.AppendValue(nil, v)))
}

func TestAppendValue2(t *testing.T) {
	v := resp.NewMap(
		resp.NewSimpleString("flag"), resp.NewBool(true),
		resp.NewSimpleString("score"), resp.NewDouble(2.5),
		resp.NewSimpleString("big"), resp.NewBigNumber("123"),
		resp.NewSimpleString("doc"), resp.NewVerbatim("txt", "hi"),
		resp.NewSimpleString("none"), resp.NewNull(),
		resp.NewSimpleString("arr"), resp.NewNullArray(),
		resp.NewSimpleString("set"), resp.NewSet(resp.NewInt(1)),
		resp.NewSimpleString("err"), resp.NewBulkError("ERR x"),
	).WithAttrs(resp.NewSimpleString("dropped"), resp.NewInt(1))
	want := "*16\r\n+flag\r\n:1\r\n+score\r\n$3\r\n2.5\r\n+big\r\n$3\r\n123\r\n+doc\r\n$2\r\nhi\r\n" +
		"+none\r\n$-1\r\n+arr\r\n*-1\r\n+set\r\n*1\r\n:1\r\n+err\r\n-ERR x\r\n"
	assert.Equal(t, want, string(resp.AppendValue2(nil, v)))
}
