package resp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// goodFrames are well-formed frames and the values they decode to.
var goodFrames = []struct {
	name  string
	frame string
	want  resp.Value
}{
	{"simple string", "+hello world\r\n", resp.NewSimpleString("hello world")},
	{"simple string OK", "+OK\r\n", resp.NewSimpleString("OK")},
	{"simple string empty", "+\r\n", resp.NewSimpleString("")},
	{"simple error", "-ERR unknown command\r\n", resp.NewSimpleError("ERR unknown command")},
	{"integer", ":1000\r\n", resp.NewInt(1000)},
	{"integer negative", ":-42\r\n", resp.NewInt(-42)},
	{"integer plus sign", ":+7\r\n", resp.NewInt(7)},
	{"integer max", ":9223372036854775807\r\n", resp.NewInt(math.MaxInt64)},
	{"integer min", ":-9223372036854775808\r\n", resp.NewInt(math.MinInt64)},
	{"bulk string", "$5\r\nhello\r\n", resp.NewBulkString("hello")},
	{"bulk string empty", "$0\r\n\r\n", resp.NewBulkString("")},
	{"bulk string binary", "$4\r\na\r\nb\r\n", resp.NewBulkString("a\r\nb")},
	{"null bulk RESP2", "$-1\r\n", resp.NewNullBulk()},
	{"null array RESP2", "*-1\r\n", resp.NewNullArray()},
	{"null", "_\r\n", resp.NewNull()},
	{"boolean true", "#t\r\n", resp.NewBool(true)},
	{"boolean false", "#f\r\n", resp.NewBool(false)},
	{"double", ",3.14\r\n", resp.NewDouble(3.14)},
	{"double integral", ",10\r\n", resp.NewDouble(10)},
	{"double exponent", ",1.5e+300\r\n", resp.NewDouble(1.5e300)},
	{"double negative exponent", ",-2E-5\r\n", resp.NewDouble(-2e-5)},
	{"double inf", ",inf\r\n", resp.NewDouble(math.Inf(1))},
	{"double -inf", ",-inf\r\n", resp.NewDouble(math.Inf(-1))},
	{"double nan", ",nan\r\n", resp.NewDouble(math.NaN())},
	{"double beyond range", ",1e999\r\n", resp.NewDouble(math.Inf(1))},
	{"big number", "(3492890328409238509324850943850943825024385\r\n", resp.NewBigNumber("3492890328409238509324850943850943825024385")},
	{"big number negative", "(-12\r\n", resp.NewBigNumber("-12")},
	{"bulk error", "!21\r\nSYNTAX invalid syntax\r\n", resp.NewBulkError("SYNTAX invalid syntax")},
	{"verbatim", "=15\r\ntxt:Some string\r\n", resp.NewVerbatim("txt", "Some string")},
	{"verbatim empty text", "=4\r\nmkd:\r\n", resp.NewVerbatim("mkd", "")},
	{"array", "*2\r\n$3\r\nfoo\r\n:1\r\n", resp.NewArray(resp.NewBulkString("foo"), resp.NewInt(1))},
	{"array empty", "*0\r\n", resp.NewArray()},
	{"array nested", "*2\r\n*1\r\n+a\r\n*0\r\n", resp.NewArray(resp.NewArray(resp.NewSimpleString("a")), resp.NewArray())},
	{"array with null", "*3\r\n$1\r\na\r\n$-1\r\n_\r\n", resp.NewArray(resp.NewBulkString("a"), resp.NewNull(), resp.NewNull())},
	{"map", "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", resp.NewMap(resp.NewSimpleString("first"), resp.NewInt(1), resp.NewSimpleString("second"), resp.NewInt(2))},
	{"map empty", "%0\r\n", resp.NewMap()},
	{"set", "~3\r\n+a\r\n+b\r\n#t\r\n", resp.NewSet(resp.NewSimpleString("a"), resp.NewSimpleString("b"), resp.NewBool(true))},
	{"push", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", resp.NewPush(resp.NewBulkString("message"), resp.NewBulkString("ch"), resp.NewBulkString("hi"))},
	{"attribute", "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2039123\r\n",
		resp.NewArray(resp.NewInt(2039123)).WithAttrs(resp.NewSimpleString("key-popularity"),
			resp.NewMap(resp.NewBulkString("a"), resp.NewDouble(0.19)))},
	{"attribute inside array", "*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n:2\r\n",
		resp.NewArray(resp.NewBulkString("v").WithAttrs(resp.NewSimpleString("ttl"), resp.NewInt(3600)), resp.NewInt(2))},
	{"attributes merged", "|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n#t\r\n",
		resp.NewBool(true).WithAttrs(resp.NewSimpleString("a"), resp.NewInt(1), resp.NewSimpleString("b"), resp.NewInt(2))},
	{"attribute empty", "|0\r\n:5\r\n", resp.NewInt(5)},
	{"streamed string", "$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n", resp.NewBulkString("Hello word")},
	{"streamed string empty", "$?\r\n;0\r\n", resp.NewBulkString("")},
	{"streamed array", "*?\r\n:1\r\n:2\r\n:3\r\n.\r\n", resp.NewArray(resp.NewInt(1), resp.NewInt(2), resp.NewInt(3))},
	{"streamed array empty", "*?\r\n.\r\n", resp.NewArray()},
	{"streamed map", "%?\r\n+a\r\n:1\r\n+b\r\n:2\r\n.\r\n", resp.NewMap(resp.NewSimpleString("a"), resp.NewInt(1), resp.NewSimpleString("b"), resp.NewInt(2))},
	{"streamed set nested", "~?\r\n*?\r\n#f\r\n.\r\n.\r\n", resp.NewSet(resp.NewArray(resp.NewBool(false)))},
}

// leader is a frame put before the one under test, so that the latter is
// decoded from bytes already buffered: Read takes a shortcut for whole
// frames in the buffer, and both paths must agree.
const leader = "+lead\r\n"

// readerAt returns a Reader whose next frame is frame: read from the wire, or,
// when buffered, from bytes already in the buffer behind the leader.
func readerAt(t *testing.T, frame string, buffered bool) *resp.Reader {
	t.Helper()
	if !buffered {
		return resp.NewReader(strings.NewReader(frame))
	}
	r := resp.NewReader(strings.NewReader(leader + frame))
	_, err := r.Read()
	require.NoError(t, err)
	return r
}

func TestReadGoodFrames(t *testing.T) {
	for _, tc := range goodFrames {
		for _, buffered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/buffered=%v", tc.name, buffered), func(t *testing.T) {
				r := readerAt(t, tc.frame, buffered)
				got, err := r.Read()
				require.NoError(t, err)
				assert.True(t, tc.want.Equal(got), "got %#v\nwant %#v", got, tc.want)
				assert.Equal(t, tc.want.Kind(), got.Kind())
				_, err = r.Read()
				assert.ErrorIs(t, err, io.EOF, "a frame followed by nothing ends with io.EOF")
			})
		}
	}
}

func TestReadBackToBack(t *testing.T) {
	var stream strings.Builder
	for _, tc := range goodFrames {
		stream.WriteString(tc.frame)
	}
	// A tiny buffer forces lines and bodies across buffer refills.
	r := resp.NewReaderSize(strings.NewReader(stream.String()), 16)
	for _, tc := range goodFrames {
		got, err := r.Read()
		require.NoError(t, err, tc.name)
		require.True(t, tc.want.Equal(got), "%s: got %#v", tc.name, got)
	}
	_, err := r.Read()
	require.Equal(t, io.EOF, err)
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range goodFrames {
		t.Run(tc.name, func(t *testing.T) {
			frame := resp.AppendValue(nil, tc.want)
			got, err := resp.NewReader(bytes.NewReader(frame)).Read()
			require.NoError(t, err, "frame %q", frame)
			assert.True(t, tc.want.Equal(got), "frame %q decoded to %#v", frame, got)
		})
	}
}

// badFrames are malformed frames and a fragment of the error each gives.
var badFrames = []struct {
	name, frame, want string
}{
	{"unknown type byte", "@foo\r\n", `unknown type byte '@'`},
	{"unknown type byte not printable", "\xff\r\n", `unknown type byte 0xff`},
	{"empty line", "\r\n", "empty line"},
	{"LF without CR", "+OK\n", "ends in LF without CR"},
	{"CR in simple string", "+a\rb\r\n", "holds a CR"},
	{"integer with letters", ":12a\r\n", `bad integer "12a"`},
	{"integer empty", ":\r\n", `bad integer ""`},
	{"integer overflow", ":9223372036854775808\r\n", "bad integer"},
	{"integer sign only", ":-\r\n", "bad integer"},
	{"bulk length not a number", "$abc\r\n", `bad bulk string length "abc"`},
	{"bulk length negative", "$-2\r\n", "negative bulk string length -2"},
	{"bulk error length -1", "!-1\r\n", "negative bulk error length -1"},
	{"bulk without CRLF", "$3\r\nfooXY", "bulk string of 3 bytes not followed by CRLF"},
	{"array length negative", "*-5\r\n", "negative array length -5"},
	{"map length -1", "%-1\r\n", "negative map length -1"},
	{"array length garbage", "*x\r\n", `bad array length "x"`},
	{"null with payload", "_x\r\n", `bad null "_x"`},
	{"boolean word", "#true\r\n", `bad boolean "true"`},
	{"boolean empty", "#\r\n", "bad boolean"},
	{"double garbage", ",1.2.3\r\n", `bad double "1.2.3"`},
	{"double hex", ",0x1p3\r\n", "bad double"},
	{"double no digits", ",.5\r\n", "bad double"},
	{"double bare exponent", ",1e\r\n", "bad double"},
	{"big number letters", "(12x\r\n", `bad big number "12x"`},
	{"big number empty", "(\r\n", "bad big number"},
	{"verbatim too short", "=3\r\ntxt\r\n", "no room for its format"},
	{"verbatim without colon", "=6\r\ntxtabc\r\n", "lacks the ':'"},
	{"end marker outside stream", ".\r\n", "end marker '.' outside a streamed aggregate"},
	{"streamed push", ">?\r\n.\r\n", "resp: push cannot be streamed"},
	{"streamed bulk error", "!?\r\n", "bulk error cannot be streamed"},
	{"streamed chunk without semicolon", "$?\r\n4\r\n", "does not start with ';'"},
	{"streamed chunk length negative", "$?\r\n;-1\r\n", "bad streamed string chunk length"},
	{"streamed map odd", "%?\r\n+a\r\n.\r\n", "streamed map ended after a key"},
	{"attribute before end marker", "*?\r\n|0\r\n.\r\n", "attribute before the end marker"},
	{"attribute streamed", "|?\r\n", "attribute cannot be streamed"},
	{"bulk over limit", "$536870913\r\n", "bulk string length 536870913 exceeds the limit of 536870912 bytes"},
	{"array length beyond any reply", "*9999999999\r\n", "beyond any reply"},
}

func TestReadBadFrames(t *testing.T) {
	for _, tc := range badFrames {
		for _, buffered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/buffered=%v", tc.name, buffered), func(t *testing.T) {
				r := readerAt(t, tc.frame, buffered)
				_, err := r.Read()
				require.Error(t, err)
				assert.ErrorIs(t, err, resp.ErrProtocol)
				assert.Contains(t, err.Error(), tc.want)
				assert.True(t, strings.HasPrefix(err.Error(), "resp: "), "error %q lacks the package prefix", err)
			})
		}
	}
}

// truncatedFrames are frames cut short: each fails with io.ErrUnexpectedEOF
// (and ErrProtocol), never with a bare io.EOF.
var truncatedFrames = []string{
	"+OK", "+OK\r", ":12", "$5\r\nhel", "$5\r\nhello", "$5\r\nhello\r", "$5\r\n",
	"*2\r\n:1\r\n", "*2\r\n", "%1\r\n+a\r\n", "|1\r\n+a\r\n:1\r\n", "$?\r\n;3\r\nabc\r\n",
	"*?\r\n:1\r\n", "~?\r\n", "=10\r\ntxt:ab", "!3\r\nER",
}

func TestReadTruncated(t *testing.T) {
	for _, frame := range truncatedFrames {
		t.Run(frame, func(t *testing.T) {
			r := resp.NewReader(strings.NewReader(leader + frame))
			_, err := r.Read()
			require.NoError(t, err)
			_, err = r.Read()
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.ErrorIs(t, err, resp.ErrProtocol)
			assert.Contains(t, err.Error(), "resp: unexpected EOF in ")
		})
	}
}

func TestReadEOFAtBoundary(t *testing.T) {
	_, err := resp.NewReader(strings.NewReader("")).Read()
	assert.Equal(t, io.EOF, err)
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReadPassesReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := resp.NewReader(io.MultiReader(strings.NewReader("$10\r\nabc"), failingReader{boom})).Read()
	assert.Equal(t, boom, err)
}

func TestReaderLimits(t *testing.T) {
	r := resp.NewReader(strings.NewReader("$6\r\nfoobar\r\n"))
	r.SetMaxBulkLen(5)
	_, err := r.Read()
	require.ErrorIs(t, err, resp.ErrTooLarge)
	assert.ErrorIs(t, err, resp.ErrProtocol)
	assert.EqualError(t, err, "resp: bulk string length 6 exceeds the limit of 5 bytes (the whole bulk string reply was read and dropped)")

	r = resp.NewReader(strings.NewReader("*1\r\n*1\r\n*1\r\n:1\r\n"))
	r.SetMaxDepth(2)
	_, err = r.Read()
	require.ErrorIs(t, err, resp.ErrTooLarge)
	assert.EqualError(t, err, "resp: aggregates nested more than 2 deep")

	r = resp.NewReader(strings.NewReader("*1\r\n*1\r\n:1\r\n*1\r\n*2\r\n*0\r\n*-1\r\n"))
	r.SetMaxDepth(2)
	v, err := r.Read()
	require.NoError(t, err)
	assert.True(t, resp.NewArray(resp.NewArray(resp.NewInt(1))).Equal(v))
	v, err = r.Read()
	require.NoError(t, err, "empty aggregates and nulls at the limit nest nothing")
	assert.True(t, resp.NewArray(resp.NewArray(resp.NewArray(), resp.NewNull())).Equal(v))

	r = resp.NewReader(strings.NewReader("$?\r\n;3\r\nabc\r\n;3\r\ndef\r\n;0\r\n"))
	r.SetMaxBulkLen(5)
	_, err = r.Read()
	assert.ErrorIs(t, err, resp.ErrTooLarge)
}

func TestReadLargeBulk(t *testing.T) {
	// Larger than the buffer and than one growth step, so the body grows.
	payload := strings.Repeat("0123456789abcdef", 20000)
	frame := resp.AppendBulkString(nil, payload)
	for _, size := range []int{16, 4096, 1 << 20} {
		v, err := resp.NewReaderSize(bytes.NewReader(frame), size).Read()
		require.NoError(t, err)
		text, err := v.Text()
		require.NoError(t, err)
		require.Equal(t, payload, text)
	}
}

// TestReadLongBodiesExactly reads bodies around each size where the Reader
// changes how it reads them (its buffer, a chunk, the 16 MiB whose proof
// the Reader's own chunks hold, and past it), one after the other on one
// Reader, each a different pattern, after freeing memory full of other
// bytes: their memory is not zeroed before the read, so any byte the read
// did not write would show.
func TestReadLongBodiesExactly(t *testing.T) {
	sizes := []int{4095, 4096, 4097, 64<<10 - 1, 64 << 10, 64<<10 + 1, 1<<20 + 3, 16 << 20, 17<<20 + 5, 1<<20 + 1}
	var frames []byte
	bodies := make([][]byte, len(sizes))
	for i, n := range sizes {
		bodies[i] = make([]byte, n)
		for j := range bodies[i] {
			bodies[i][j] = byte('a' + (i+j)%26)
		}
		frames = resp.AppendBulkString(frames, string(bodies[i]))
	}
	r := resp.NewReader(bytes.NewReader(frames))
	for i, n := range sizes {
		runtime.KeepAlive(bytes.Repeat([]byte{0xee}, n))
		runtime.GC()
		v, err := r.Read()
		require.NoError(t, err, "body %d of %d bytes", i, n)
		text, err := v.Text()
		require.NoError(t, err)
		require.True(t, text == string(bodies[i]), "body %d of %d bytes differs", i, n)
	}
	_, err := r.Read()
	require.ErrorIs(t, err, io.EOF)
}

func TestReadLongSimpleString(t *testing.T) {
	long := strings.Repeat("x", 10000)
	v, err := resp.NewReaderSize(strings.NewReader("+"+long+"\r\n"), 16).Read()
	require.NoError(t, err)
	assert.True(t, resp.NewSimpleString(long).Equal(v))

	r := resp.NewReaderSize(strings.NewReader("+"+long+"\r\n"), 16)
	r.SetMaxBulkLen(100)
	_, err = r.Read()
	assert.ErrorIs(t, err, resp.ErrTooLarge)
}

// TestPeekKind: PeekKind names the next frame's first byte once it is
// buffered, consumes nothing, and never reads.
func TestPeekKind(t *testing.T) {
	r := resp.NewReader(strings.NewReader(">2\r\n$1\r\na\r\n$1\r\nb\r\n:1\r\n"))
	assert.Equal(t, resp.Kind(0), r.PeekKind(), "nothing buffered before the first read")
	v, err := r.Read()
	require.NoError(t, err)
	assert.Equal(t, resp.Push, v.Kind())
	assert.Equal(t, resp.Integer, r.PeekKind())
	assert.Equal(t, resp.Integer, r.PeekKind(), "peeking consumes nothing")
	v, err = r.Read()
	require.NoError(t, err)
	n, err := v.Int()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	assert.Equal(t, resp.Kind(0), r.PeekKind())
}

// TestLongestBody checks that LongestBody reports the longest bulk body read
// since it last returned, whichever way the body was read (out of the
// buffer, in a run, past the buffer, streamed in chunks, to a writer), and
// then starts again from none.
func TestLongestBody(t *testing.T) {
	long := strings.Repeat("x", 10000)
	in := "$3\r\nabc\r\n" + "*2\r\n$5\r\nhello\r\n:1\r\n" +
		"$10000\r\n" + long + "\r\n" +
		"$?\r\n;6000\r\n" + long[:6000] + "\r\n;6000\r\n" + long[:6000] + "\r\n;0\r\n" +
		"$7000\r\n" + long[:7000] + "\r\n" +
		"+OK\r\n" + "$4\r\nabcd\r\n$2\r\nab\r\n"
	r := resp.NewReaderSize(strings.NewReader(in), 4096)
	read := func() {
		t.Helper()
		_, err := r.Read()
		require.NoError(t, err)
	}
	assert.Zero(t, r.LongestBody(), "nothing read")
	read()
	read()
	assert.Equal(t, 5, r.LongestBody(), "out of the buffer")
	read()
	assert.Equal(t, 10000, r.LongestBody(), "past the buffer")
	read()
	assert.Equal(t, 12000, r.LongestBody(), "a streamed string, whole")
	n, _, err := r.ReadBulkTo(io.Discard)
	require.NoError(t, err)
	require.Equal(t, int64(7000), n)
	assert.Equal(t, 7000, r.LongestBody(), "to a writer")
	read()
	assert.Zero(t, r.LongestBody(), "a simple string has no body")
	require.NoError(t, r.WaitFrame()) // buffers the run
	require.Equal(t, 2, r.ReadRun(make([]resp.Value, 4), false))
	assert.Equal(t, 4, r.LongestBody(), "in a run")
}
