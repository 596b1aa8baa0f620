package resp_test

import (
	"errors"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// next is the reply after each skipped one: it must still decode, which
// shows the Reader stayed in step.
const next = "+next\r\n"

// skippedFrames are replies a Reader must read past and drop, reporting a
// *SkippedError, with the limits set as given (0: the default).
var skippedFrames = []struct {
	name     string
	frame    string
	maxBulk  int64
	maxElems int
	kind     resp.Kind
	is       error // besides ErrProtocol
	msg      string
}{
	{"array over the element limit", "*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n", 0, 3, resp.Array, resp.ErrTooLarge, "more than the limit of 3 elements"},
	{"nested arrays over the limit", "*2\r\n*2\r\n:1\r\n:2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n", 0, 5, resp.Array, resp.ErrTooLarge, "more than the limit of 5 elements"},
	{"map over the limit", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", 0, 3, resp.Map, resp.ErrTooLarge, "limit of 3 elements"},
	{"set over the limit", "~4\r\n,1.5\r\n#t\r\n_\r\n(12\r\n", 0, 3, resp.Set, resp.ErrTooLarge, "limit of 3 elements"},
	{"push over the limit", ">4\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n$1\r\ny\r\n", 0, 3, resp.Push, resp.ErrTooLarge, "limit of 3 elements"},
	{"attribute over the limit", "|2\r\n+a\r\n:1\r\n+b\r\n:2\r\n:7\r\n", 0, 3, resp.Integer, resp.ErrTooLarge, "limit of 3 elements"},
	{"elements of every kind after the limit", "*9\r\n:1\r\n:2\r\n=7\r\ntxt:abc\r\n!3\r\nERR\r\n$?\r\n;2\r\nab\r\n;0\r\n" +
		"*?\r\n:1\r\n.\r\n%?\r\n+k\r\n+v\r\n.\r\n|1\r\n+ttl\r\n:3\r\n-ERR x\r\n*-1\r\n", 0, 1, resp.Array, resp.ErrTooLarge, "limit of 1 elements"},
	{"bulk string over the limit", "$10\r\n0123456789\r\n", 5, 0, resp.BulkString, resp.ErrTooLarge, "bulk string length 10 exceeds the limit of 5 bytes"},
	{"bulk error over the limit", "!10\r\nERR 456789\r\n", 5, 0, resp.BulkError, resp.ErrTooLarge, "bulk error length 10"},
	{"verbatim over the limit", "=10\r\ntxt:456789\r\n", 5, 0, resp.Verbatim, resp.ErrTooLarge, "verbatim string length 10"},
	{"bulk over the limit inside an array", "*3\r\n$1\r\na\r\n$10\r\n0123456789\r\n$1\r\nb\r\n", 5, 0, resp.Array, resp.ErrTooLarge, "length 10 exceeds"},
	{"bulk over the limit inside a map inside an array", "*2\r\n%1\r\n$10\r\n0123456789\r\n*1\r\n:1\r\n:2\r\n", 5, 0, resp.Array, resp.ErrTooLarge, "length 10 exceeds"},
	{"long lines while skipping", "*3\r\n$10\r\n0123456789\r\n+" + strings.Repeat("y", 10000) + "\r\n-" + strings.Repeat("z", 10000) + "\r\n", 5, 0, resp.Array, resp.ErrTooLarge, "length 10 exceeds"},
	{"bad double", ",1.2.3\r\n", 0, 0, resp.Double, nil, `bad double "1.2.3"`},
	{"bad double inside an array", "*3\r\n:1\r\n,abc\r\n$1\r\nx\r\n", 0, 0, resp.Array, nil, `bad double "abc"`},
	{"bad integer", ":12a\r\n", 0, 0, resp.Integer, nil, `bad integer "12a"`},
	{"bad boolean in a map", "%1\r\n+k\r\n#x\r\n", 0, 0, resp.Map, nil, "bad boolean"},
	{"bad big number", "(1.5\r\n", 0, 0, resp.BigNumber, nil, "bad big number"},
	{"bad null", "_x\r\n", 0, 0, resp.Null, nil, "bad null"},
	{"CR in simple string", "+a\rb\r\n", 0, 0, resp.SimpleString, nil, "holds a CR"},
	{"verbatim too short", "=3\r\ntxt\r\n", 0, 0, resp.Verbatim, nil, "no room for its format"},
	{"verbatim without colon", "=6\r\ntxtabc\r\n", 0, 0, resp.Verbatim, nil, "lacks the ':'"},
	{"streamed map with an odd count", "%?\r\n+a\r\n.\r\n", 0, 0, resp.Map, nil, "streamed map ended after a key"},
	{"bad element after the limit", "*3\r\n:1\r\n:2\r\n:x\r\n", 0, 1, resp.Array, resp.ErrTooLarge, "limit of 1 elements"},
}

func TestReadSkipsReplyItCannotKeep(t *testing.T) {
	for _, tc := range skippedFrames {
		for _, buffered := range []bool{false, true} {
			t.Run(tc.name+"/buffered="+strconv.FormatBool(buffered), func(t *testing.T) {
				r := readerAt(t, tc.frame+next, buffered)
				r.SetMaxBulkLen(tc.maxBulk)
				r.SetMaxElements(tc.maxElems)
				v, err := r.Read()
				var skipped *resp.SkippedError
				require.ErrorAs(t, err, &skipped)
				assert.Equal(t, tc.kind, skipped.Kind)
				assert.ErrorIs(t, err, resp.ErrProtocol)
				if tc.is != nil {
					assert.ErrorIs(t, err, tc.is)
				}
				assert.Contains(t, err.Error(), tc.msg)
				assert.Contains(t, err.Error(), "reply was read and dropped")
				assert.True(t, strings.HasPrefix(err.Error(), "resp: "), "error %q lacks the package prefix", err)
				assert.Equal(t, resp.Kind(0), v.Kind(), "nothing of a skipped reply is returned")

				v, err = r.Read()
				require.NoError(t, err, "the Reader must be in step after a skipped reply")
				assert.True(t, resp.NewSimpleString("next").Equal(v), "got %v", v)
				_, err = r.Read()
				assert.Equal(t, io.EOF, err)
			})
		}
	}
}

// brokenWhileSkipping are replies that lose the framing after the Reader
// began to skip them: the error must say both things and not be a
// SkippedError, since the Reader is out of step.
var brokenWhileSkipping = []struct {
	name, frame string
	is          error
}{
	{"cut short", "*3\r\n:1\r\n:2\r\n", io.ErrUnexpectedEOF},
	{"body cut short", "$10\r\n01234", io.ErrUnexpectedEOF},
	{"body without CRLF", "$10\r\n0123456789XY", resp.ErrProtocol},
	{"unknown type byte", "*3\r\n:1\r\n:2\r\n@x\r\n", resp.ErrProtocol},
	{"bad length", "*3\r\n:1\r\n:2\r\n*x\r\n", resp.ErrProtocol},
	{"end marker outside a stream", "*3\r\n:1\r\n:2\r\n.\r\n", resp.ErrProtocol},
}

func TestReadBreaksWhileSkipping(t *testing.T) {
	for _, tc := range brokenWhileSkipping {
		t.Run(tc.name, func(t *testing.T) {
			r := resp.NewReader(strings.NewReader(tc.frame))
			r.SetMaxBulkLen(5)
			r.SetMaxElements(1)
			_, err := r.Read()
			require.Error(t, err)
			var skipped *resp.SkippedError
			assert.False(t, errors.As(err, &skipped), "a broken stream is no skipped reply: %v", err)
			assert.ErrorIs(t, err, tc.is)
			assert.ErrorIs(t, err, resp.ErrTooLarge, "the reason for skipping is kept")
			assert.Contains(t, err.Error(), "while skipping a reply")
		})
	}
}

// TestReadNeverSkipsStreamsPastALimit: a streamed string or aggregate
// declares no end, so past a limit it breaks the stream instead of being
// read for ever.
func TestReadNeverSkipsStreamsPastALimit(t *testing.T) {
	for _, frame := range []string{
		"$?\r\n;3\r\nabc\r\n;3\r\ndef\r\n;0\r\n",
		"*?\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n.\r\n",
		"+" + strings.Repeat("a", 10000) + "\r\n",
	} {
		r := resp.NewReaderSize(strings.NewReader(frame+next), 16)
		r.SetMaxBulkLen(5)
		r.SetMaxElements(5)
		_, err := r.Read()
		require.ErrorIs(t, err, resp.ErrTooLarge)
		var skipped *resp.SkippedError
		assert.False(t, errors.As(err, &skipped), "%q: %v", frame[:4], err)
	}
}

// TestSkipKeepsNothing reads past a reply of a million elements and of a
// 64 MiB bulk string, each over its limit: skipping must not allocate for
// what it drops.
func TestSkipKeepsNothing(t *testing.T) {
	const budget = 1 << 20
	const count = 1 << 20
	for _, tc := range []struct {
		name  string
		input func() io.Reader
	}{
		{"a million elements", func() io.Reader {
			return io.MultiReader(strings.NewReader("*"+strconv.Itoa(count)+"\r\n"),
				strings.NewReader(strings.Repeat("$3\r\nabc\r\n", count)), strings.NewReader(next))
		}},
		{"64 MiB bulk string", func() io.Reader {
			return io.MultiReader(strings.NewReader("$"+strconv.Itoa(64<<20)+"\r\n"),
				io.LimitReader(zeros{}, 64<<20), strings.NewReader("\r\n"+next))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := tc.input()
			r := resp.NewReader(input)
			r.SetMaxElements(1000)
			r.SetMaxBulkLen(1 << 20)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := r.Read()
			runtime.ReadMemStats(&after)
			var skipped *resp.SkippedError
			require.ErrorAs(t, err, &skipped)
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(budget), "skipping allocated %d bytes", allocated)
			v, err := r.Read()
			require.NoError(t, err)
			assert.True(t, resp.NewSimpleString("next").Equal(v))
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestReadDoubleGrammar covers the RESP3 specification's double: an
// optional sign, an integral part of one or more digits, an optional
// fraction (a dot and one or more digits), an optional exponent (e or E, an
// optional sign, one or more digits); inf, -inf and nan; and the NaN
// spellings Redis before 7.2 took from libc, which the specification says
// clients must accept ("-nan", "NAN", "nan(char-sequence)").
func TestReadDoubleGrammar(t *testing.T) {
	nan := math.NaN()
	good := []struct {
		wire string
		want float64
	}{
		{"0", 0}, {"10", 10}, {"-10", -10}, {"+10", 10}, {"1.23", 1.23}, {"-0.5", -0.5},
		{"007", 7}, {"1e3", 1000}, {"1E3", 1000}, {"1e+3", 1000}, {"1e-3", 0.001}, {"-1.5E-3", -0.0015},
		{"3.141592653589793", math.Pi}, {"1.7976931348623157e308", math.MaxFloat64},
		{"4.9406564584124654e-324", math.SmallestNonzeroFloat64},
		{"1e999", math.Inf(1)}, {"-1e999", math.Inf(-1)},
		{"inf", math.Inf(1)}, {"+inf", math.Inf(1)}, {"-inf", math.Inf(-1)},
		{"INF", math.Inf(1)}, {"-Inf", math.Inf(-1)},
		{"nan", nan}, {"-nan", nan}, {"+nan", nan}, {"NAN", nan}, {"NaN", nan}, {"-NaN", nan},
		{"nan()", nan}, {"nan(123)", nan}, {"nan(0x7ff8)", nan}, {"-nan(ind)", nan}, {"NAN(snan_1)", nan},
	}
	for _, tc := range good {
		for _, buffered := range []bool{false, true} {
			r := readerAt(t, ","+tc.wire+"\r\n", buffered)
			v, err := r.Read()
			require.NoError(t, err, "%q", tc.wire)
			require.Equal(t, resp.Double, v.Kind())
			f, err := v.Float()
			require.NoError(t, err)
			if math.IsNaN(tc.want) {
				assert.True(t, math.IsNaN(f), "%q: got %v", tc.wire, f)
			} else {
				assert.Equal(t, tc.want, f, "%q", tc.wire)
			}
		}
		// Value.Float reads a string that holds a double the same way.
		f, err := resp.NewBulkString(tc.wire).Float()
		require.NoError(t, err, "%q", tc.wire)
		assert.Equal(t, math.IsNaN(tc.want), math.IsNaN(f), "%q", tc.wire)
	}

	bad := []string{
		"", "+", "-", ".5", "-.5", "5.", "1.e3", "1e", "1e+", "1E-", "e3", "1.2.3", "1e3.5", "0x1p3", "1_000",
		" 1", "1 ", "infinity", "-infinity", "in", "infx", "na", "nanx", "nan(", "nan)", "nan(1", "nan(1-2)",
		"nan(a b)", "--1", "+-1", "1e--3", "١", "inf(1)",
	}
	for _, wire := range bad {
		_, err := resp.NewReader(strings.NewReader("," + wire + "\r\n" + next)).Read()
		var skipped *resp.SkippedError
		require.ErrorAs(t, err, &skipped, "%q must be refused", wire)
		assert.Contains(t, err.Error(), "bad double")
		_, err = resp.NewBulkString(wire).Float()
		assert.ErrorIs(t, err, resp.ErrWrongKind, "%q", wire)
	}
}
