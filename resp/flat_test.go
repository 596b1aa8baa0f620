package resp_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readStrings is ReadStrings with a scratch of four, returning copies of
// what take was handed, or nil when it was not called.
func readStrings(r *resp.Reader, accept bool) (kind resp.Kind, elems []string, taken bool, err error) {
	var scratch [4][]byte
	called := false
	taken, err = r.ReadStrings(scratch[:], func(k resp.Kind, e [][]byte) bool {
		called, kind = true, k
		elems = make([]string, 0, len(e)) // the test's own copy
		for _, b := range e {
			elems = append(elems, string(b))
		}
		return accept
	})
	if !called {
		elems = nil
	}
	return kind, elems, taken, err
}

func TestReadStrings(t *testing.T) {
	message := ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n"
	for _, tc := range []struct {
		name  string
		frame string
		kind  resp.Kind
		elems []string // nil: take is not called, Read decodes the frame
	}{
		{"message", message, resp.Push, []string{"message", "ch", "abc"}},
		{"pmessage", ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$0\r\n\r\n", resp.Push, []string{"pmessage", "c*", "ch", ""}},
		{"array", "*1\r\n$1\r\na\r\n", resp.Array, []string{"a"}},
		{"confirmation", ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", 0, nil},
		{"null element", "*2\r\n$1\r\na\r\n$-1\r\n", 0, nil},
		{"more than the scratch", "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n", 0, nil},
		{"empty", "*0\r\n", 0, nil},
		{"null array", "*-1\r\n", 0, nil},
		{"scalar", "+OK\r\n", 0, nil},
		{"set", "~1\r\n$1\r\na\r\n", 0, nil},
		{"nested", "*2\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n", 0, nil},
		{"attribute first", "|1\r\n+k\r\n+v\r\n" + message, 0, nil},
		{"bad length", "*x\r\n$1\r\na\r\n", 0, nil},
		{"body not followed by CRLF", "*1\r\n$1\r\nab\r\n", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, accept := range []bool{true, false} {
				want, wantErr := resp.NewReader(strings.NewReader(tc.frame + "+next\r\n")).Read()
				r := resp.NewReader(strings.NewReader(tc.frame + "+next\r\n"))
				kind, elems, taken, err := readStrings(r, accept)
				require.NoError(t, err)
				assert.Equal(t, tc.elems, elems)
				assert.Equal(t, tc.kind, kind)
				assert.Equal(t, accept && tc.elems != nil, taken)
				if !taken {
					// Nothing consumed: Read decodes the frame as it
					// would have.
					got, err := r.Read()
					assert.Equal(t, wantErr, err)
					assert.True(t, want.Equal(got), "Read after ReadStrings: %v, want %v", got, want)
				}
				next, err := r.Read()
				if wantErr == nil {
					require.NoError(t, err)
					assert.Equal(t, "next", mustText(t, next))
				}
			}
		})
	}
}

func mustText(t *testing.T, v resp.Value) string {
	t.Helper()
	s, err := v.Text()
	require.NoError(t, err)
	return s
}

// A frame that arrives in pieces is waited for, as Read would; one larger
// than the buffer is left to Read.
func TestReadStringsReadsAsReadWould(t *testing.T) {
	frame := ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n"
	r := resp.NewReaderSize(iotest.OneByteReader(strings.NewReader(frame)), 64)
	kind, elems, taken, err := readStrings(r, true)
	require.NoError(t, err)
	assert.True(t, taken)
	assert.Equal(t, resp.Push, kind)
	assert.Equal(t, []string{"message", "ch", "abc"}, elems)
	_, _, _, err = readStrings(r, true)
	assert.Equal(t, io.EOF, err, "at a frame boundary")

	large := ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$40\r\n" + strings.Repeat("x", 40) + "\r\n"
	r = resp.NewReaderSize(strings.NewReader(large), 16)
	_, elems, taken, err = readStrings(r, true)
	require.NoError(t, err)
	assert.False(t, taken)
	assert.Nil(t, elems)
	v, err := r.Read()
	require.NoError(t, err)
	assert.Len(t, v.Elems(), 3)

	r = resp.NewReaderSize(strings.NewReader(frame[:20]), 64)
	_, _, taken, err = readStrings(r, true)
	assert.False(t, taken)
	assert.ErrorIs(t, err, resp.ErrProtocol)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	failure := errors.New("socket gone")
	r = resp.NewReader(iotest.ErrReader(failure))
	_, _, _, err = readStrings(r, true)
	assert.Equal(t, failure, err)
}

// Frames over the Reader's limits are left to Read, which refuses them.
func TestReadStringsLimits(t *testing.T) {
	frame := "*2\r\n$1\r\na\r\n$5\r\nhello\r\n+next\r\n"
	r := resp.NewReader(strings.NewReader(frame))
	r.SetMaxBulkLen(4)
	_, elems, taken, err := readStrings(r, true)
	require.NoError(t, err)
	assert.False(t, taken)
	assert.Nil(t, elems)
	_, err = r.Read()
	var skipped *resp.SkippedError
	assert.ErrorAs(t, err, &skipped)

	r = resp.NewReader(strings.NewReader(frame))
	r.SetMaxElements(1)
	_, _, taken, err = readStrings(r, true)
	require.NoError(t, err)
	assert.False(t, taken)
	_, err = r.Read()
	assert.ErrorAs(t, err, &skipped)
}

// ReadStrings allocates nothing.
func TestReadStringsAllocations(t *testing.T) {
	frame := []byte(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n")
	src := bytes.NewReader(nil)
	r := resp.NewReader(src)
	var scratch [4][]byte
	take := func(resp.Kind, [][]byte) bool { return true }
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(frame)
		r.Reset(src)
		if taken, err := r.ReadStrings(scratch[:], take); !taken || err != nil {
			t.Fatal("not taken:", err)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzReadStrings: taking what ReadStrings takes and reading the rest with
// Read must decode the same values as Read alone, whole or byte by byte.
func FuzzReadStrings(f *testing.F) {
	for _, tc := range goodFrames {
		f.Add([]byte(tc.frame))
	}
	f.Add([]byte(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n*2\r\n$1\r\na\r\n$0\r\n\r\n"))
	f.Add([]byte("*2\r\n$1\r\na\r\n$5\r\nhello\r\n*1\r\n$3\r\nab"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := decodeAll(t, resp.NewReaderSize(bytes.NewReader(data), 4096))
		for _, r := range []*resp.Reader{
			resp.NewReaderSize(bytes.NewReader(data), 4096),
			resp.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16),
		} {
			got, err := decodeTaking(t, r)
			if (err == io.EOF) != (wantErr == io.EOF) {
				t.Fatalf("ends with %v, want %v", err, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("%d values, want %d (%v, %v)", len(got), len(want), err, wantErr)
			}
			for i := range got {
				if !got[i].Equal(want[i]) {
					t.Fatalf("value %d is %v, want %v", i, got[i], want[i])
				}
			}
		}
	})
}

// decodeTaking is decodeAll with ReadStrings first for every frame.
func decodeTaking(t *testing.T, r *resp.Reader) ([]resp.Value, error) {
	t.Helper()
	r.SetMaxBulkLen(1 << 20)
	r.SetMaxDepth(32)
	r.SetMaxElements(1000)
	var values []resp.Value
	for {
		kind, elems, taken, err := readStrings(r, true)
		if err != nil {
			return values, err
		}
		if !taken {
			v, err := r.Read()
			var skipped *resp.SkippedError
			if errors.As(err, &skipped) {
				values = append(values, resp.Value{})
				continue
			}
			if err != nil {
				return values, err
			}
			values = append(values, v)
			continue
		}
		parts := make([]resp.Value, len(elems))
		for i, e := range elems {
			parts[i] = resp.NewBulkString(e)
		}
		if kind == resp.Push {
			values = append(values, resp.NewPush(parts...))
		} else {
			values = append(values, resp.NewArray(parts...))
		}
	}
}
