package resp_test

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// bufferedReader returns a Reader whose buffer already holds all of input
// (ReadRun decodes only what is buffered).
func bufferedReader(t *testing.T, input string) *resp.Reader {
	t.Helper()
	r := resp.NewReaderSize(strings.NewReader(input), len(input)+16)
	require.NoError(t, r.WaitFrame())
	require.Equal(t, len(input), r.Buffered())
	return r
}

// TestReadRun: ReadRun decodes the leading run of whole scalar replies as
// Read would, stops where Read must take over, and consumes only what it
// returned, so that Read decodes the rest as if ReadRun had not been called.
func TestReadRun(t *testing.T) {
	tests := []struct {
		name  string
		input string
		room  int // len(dst)
		want  int // values ReadRun returns
	}{
		{"bulk strings", "$3\r\nfoo\r\n$0\r\n\r\n$5\r\nhello\r\n", 8, 3},
		{"every kind it takes", "$3\r\nfoo\r\n+OK\r\n+other\r\n:-42\r\n_\r\n$-1\r\n", 8, 6},
		{"stops at room", "$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", 2, 2},
		{"arrays of scalars", "$1\r\na\r\n*2\r\n$1\r\nb\r\n_\r\n*0\r\n*-1\r\n*1\r\n:5\r\n$1\r\nc\r\n", 8, 6},
		{"stops at a nested array", "$1\r\na\r\n*1\r\n*1\r\n:1\r\n", 8, 1},
		{"stops at a long array", ":1\r\n*17\r\n" + strings.Repeat(":1\r\n", 17), 8, 1},
		{"stops at an array holding an error", ":1\r\n*2\r\n:1\r\n-ERR x\r\n", 8, 1},
		{"stops at an array cut short", ":1\r\n*2\r\n:1\r\n", 8, 1},
		{"stops at an array with a bad length", ":1\r\n*x\r\n", 8, 1},
		{"stops at a set", ":1\r\n~1\r\n:1\r\n", 8, 1},
		{"stops at a map", ":1\r\n%1\r\n:1\r\n:2\r\n", 8, 1},
		{"stops at an error", ":1\r\n-ERR no\r\n:2\r\n", 8, 1},
		{"stops at a push", ":1\r\n>2\r\n+a\r\n+b\r\n", 8, 1},
		{"stops at an attribute", ":1\r\n|1\r\n+a\r\n+b\r\n:2\r\n", 8, 1},
		{"stops at a double", ":1\r\n,1.5\r\n", 8, 1},
		{"stops at a bad integer", ":1\r\n:x\r\n", 8, 1},
		{"stops at a bulk without CRLF", "$1\r\na\r\n$1\r\nbxx", 8, 1},
		{"stops at a line without CR", ":1\r\n:2\n", 8, 1},
		{"stops at a bad length", ":1\r\n$-2\r\n", 8, 1},
		{"nothing to take", "~1\r\n:1\r\n", 8, 0},
		// Lengths of one and two digits take a shorter path than others.
		{"lengths of every width", "$9\r\n" + strings.Repeat("a", 9) + "\r\n$10\r\n" + strings.Repeat("b", 10) + "\r\n$99\r\n" + strings.Repeat("c", 99) + "\r\n$100\r\n" + strings.Repeat("d", 100) + "\r\n$016\r\n" + strings.Repeat("e", 16) + "\r\n", 8, 5},
		{"stops at a short length with a bad CRLF", "$1\r\na\r\n$2\rxab\r\n", 8, 1},
		{"stops at a short length without LF", "$1\r\na\r\n$12\r:abcdefghijkl\r\n", 8, 1},
		{"stops at a short length with a bad body end", "$1\r\na\r\n$2\r\nabc\r\n", 8, 1},
		{"stops at a short length cut short", "$1\r\na\r\n$16\r\nabc", 8, 1},
		{"stops at a length with a letter", "$1\r\na\r\n$1x\r\na\r\n", 8, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := readAllLenient(tc.input)
			r := bufferedReader(t, tc.input)
			dst := make([]resp.Value, tc.room)
			n := r.ReadRun(dst, true)
			require.Equal(t, tc.want, n)
			got := append([]resp.Value(nil), dst[:n]...)
			// What is left decodes with Read exactly as before.
			for {
				v, err := r.Read()
				if err != nil {
					break
				}
				got = append(got, v)
			}
			require.Len(t, got, len(want))
			for i := range want {
				assert.True(t, want[i].Equal(got[i]), "value %d: %v, want %v", i, got[i], want[i])
			}
		})
	}
}

// readAllLenient decodes the frames of input with Read until its first
// error, so that the tests above can hold malformed tails.
func readAllLenient(input string) []resp.Value {
	r := resp.NewReader(strings.NewReader(input))
	var vals []resp.Value
	for {
		v, err := r.Read()
		if err != nil {
			return vals
		}
		vals = append(vals, v)
	}
}

// TestReadRunPartial: a frame cut short at the end of the buffer ends the
// run; once the rest of it arrives, Read decodes it.
func TestReadRunPartial(t *testing.T) {
	whole := "$3\r\nfoo\r\n$6\r\nfoobar\r\n"
	pr, pw := io.Pipe()
	r := resp.NewReader(pr)
	go func() {
		pw.Write([]byte(whole[:15]))
		pw.Write([]byte(whole[15:]))
		pw.Close()
	}()
	require.NoError(t, r.WaitFrame())
	dst := make([]resp.Value, 4)
	require.Equal(t, 1, r.ReadRun(dst, true))
	text, _ := dst[0].Text()
	assert.Equal(t, "foo", text)
	v, err := r.Read()
	require.NoError(t, err)
	text, _ = v.Text()
	assert.Equal(t, "foobar", text)
}

// TestReadRunLimit: a bulk string over SetMaxBulkLen, or an array over
// SetMaxElements, ends the run, and Read refuses it as before.
func TestReadRunLimit(t *testing.T) {
	r := bufferedReader(t, "$2\r\nab\r\n$5\r\nabcde\r\n:7\r\n")
	r.SetMaxBulkLen(4)
	dst := make([]resp.Value, 4)
	require.Equal(t, 1, r.ReadRun(dst, true))
	_, err := r.Read()
	var skipped *resp.SkippedError
	require.ErrorAs(t, err, &skipped)
	require.Equal(t, 1, r.ReadRun(dst, true))
	n, _ := dst[0].Int()
	assert.Equal(t, int64(7), n)

	r = bufferedReader(t, "*2\r\n:1\r\n:2\r\n*3\r\n:1\r\n:2\r\n:3\r\n")
	r.SetMaxElements(2)
	require.Equal(t, 1, r.ReadRun(dst, true))
	assert.Len(t, dst[0].Elems(), 2)
	_, err = r.Read()
	require.ErrorAs(t, err, &skipped)
}

// TestReadRunSlabs: a run of a thousand
// 16-byte values costs a handful of allocations and no more bytes than the
// peer sent, and large values get memory of their own.
func TestReadRunSlabs(t *testing.T) {
	const count, size = 1000, 16
	var input strings.Builder
	for i := range count {
		input.WriteString("$16\r\n" + strconv.Itoa(1e15+i) + "\r\n")
	}
	r := bufferedReader(t, input.String())
	dst := make([]resp.Value, count)
	require.Equal(t, count, r.ReadRun(dst, true))

	for i, v := range dst {
		text, err := v.Text()
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(1e15+i), text)
	}

	allocs := testing.AllocsPerRun(20, func() {
		r := resp.NewReaderSize(strings.NewReader(input.String()), input.Len()+16)
		r.WaitFrame()
		r.ReadRun(dst, true)
	})
	// The Reader and its buffer (3), plus count*size/4096 slabs and one
	// for the rest.
	assert.LessOrEqual(t, allocs, float64(3+count*size/(4<<10)+2))

	big := strings.Repeat("x", 200)
	r = bufferedReader(t, "$200\r\n"+big+"\r\n$1\r\na\r\n")
	require.Equal(t, 2, r.ReadRun(dst, true))
	text, _ := dst[0].Text()
	assert.Equal(t, big, text)
}

// TestReadRunKeepsNoBuffer: the strings of a run do not refer to the
// Reader's buffer, which the next read overwrites.
func TestReadRunKeepsNoBuffer(t *testing.T) {
	var src bytes.Buffer
	src.WriteString("$3\r\nabc\r\n:1\r\n")
	r := resp.NewReaderSize(&src, 16)
	require.NoError(t, r.WaitFrame())
	dst := make([]resp.Value, 4)
	require.Equal(t, 2, r.ReadRun(dst, true))
	src.WriteString("$3\r\nxyz\r\n")
	require.NoError(t, r.WaitFrame())
	require.Equal(t, 1, r.ReadRun(dst[2:], true))
	first, _ := dst[0].Text()
	third, _ := dst[2].Text()
	assert.Equal(t, "abc", first)
	assert.Equal(t, "xyz", third)
}

// FuzzReadRun decodes arbitrary bytes with ReadRun wherever it takes
// something and Read elsewhere; the values and the final error must be
// those of Read alone. Seeds: FuzzReader's.
// TestReadRunWithoutShare: without share every small string of a run has
// memory of its own, and a slab started by a shared run is not used again,
// so a value one caller keeps keeps nobody else's alive.
func TestReadRunWithoutShare(t *testing.T) {
	const count = 8
	var input strings.Builder
	for i := range 3 * count {
		input.WriteString("$20\r\n" + "v" + strconv.Itoa(1e18+i) + "\r\n")
	}
	r := bufferedReader(t, input.String())
	dst := make([]resp.Value, count)
	text := func(i int) string { s, _ := dst[i].Text(); return s }
	backToBack := func(s, next string) bool {
		return uintptr(unsafe.Pointer(unsafe.StringData(s)))+uintptr(len(s)) == uintptr(unsafe.Pointer(unsafe.StringData(next)))
	}

	require.Equal(t, count, r.ReadRun(dst, true))
	shared := text(count - 1)
	assert.True(t, backToBack(text(0), text(1)), "shared: one slab")

	require.Equal(t, count, r.ReadRun(dst, false))
	for i := range count {
		require.Equal(t, "v"+strconv.Itoa(1e18+count+i), text(i))
	}
	assert.False(t, backToBack(shared, text(0)), "not in the shared run's slab")
	for i := 1; i < count; i++ {
		// 20-byte strings of their own lie at least 24 bytes apart.
		assert.False(t, backToBack(text(i-1), text(i)), "value %d", i)
	}

	require.Equal(t, count, r.ReadRun(dst, true))
	assert.False(t, backToBack(shared, text(0)), "a shared run after one without starts a new slab")
}

func FuzzReadRun(f *testing.F) {
	for _, tc := range goodFrames {
		f.Add([]byte(tc.frame + tc.frame))
	}
	for _, tc := range badFrames {
		f.Add([]byte(":1\r\n" + tc.frame))
	}
	for _, frame := range truncatedFrames {
		f.Add([]byte("$1\r\na\r\n" + frame))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := decodeAll(t, resp.NewReaderSize(bytes.NewReader(data), 4096))
		r := resp.NewReaderSize(bytes.NewReader(data), 4096)
		r.SetMaxBulkLen(1 << 20)
		r.SetMaxDepth(32)
		r.SetMaxElements(1000)
		var got []resp.Value
		dst := make([]resp.Value, 3)
		var err error
		for err == nil {
			if n := r.ReadRun(dst, true); n > 0 {
				got = append(got, dst[:n]...)
				continue
			}
			var v resp.Value
			v, err = r.Read()
			var skipped *resp.SkippedError
			if errors.As(err, &skipped) {
				v, err = resp.Value{}, nil
			}
			if err == nil {
				got = append(got, v)
			}
		}
		if len(got) != len(want) || (err == io.EOF) != (wantErr == io.EOF) {
			t.Fatalf("with runs: %d values, %v; Read alone: %d values, %v", len(got), err, len(want), wantErr)
		}
		for i := range want {
			if !want[i].Equal(got[i]) {
				t.Fatalf("value %d: with runs %#v, Read alone %#v", i, got[i], want[i])
			}
		}
	})
}
