package resp_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// TestReadBulkTo: bulk strings go to the writer, whole and in order, read
// in one piece or a byte at a time; every other frame comes back as Read
// returns it; the Reader stays in step after each.
func TestReadBulkTo(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 20000) // 320,000 bytes: buffer and chunks
	tests := []struct {
		name    string
		in      string
		written string // the body, for a streamed frame
		kind    resp.Kind
	}{
		{"empty bulk", "$0\r\n\r\n", "", 0},
		{"small bulk", "$5\r\nhello\r\n", "hello", 0},
		{"big bulk", "$320000\r\n" + big + "\r\n", big, 0},
		{"null bulk", "$-1\r\n", "", resp.Null},
		{"error", "-ERR no\r\n", "", resp.SimpleError},
		{"integer", ":7\r\n", "", resp.Integer},
		{"push", ">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n", "", resp.Push},
		{"streamed string", "$?\r\n;2\r\nab\r\n;0\r\n", "", resp.BulkString},
		{"attributes first", "|1\r\n+a\r\n+b\r\n$2\r\nhi\r\n", "", resp.BulkString},
	}
	for _, tc := range tests {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(tc.in + ":42\r\n")
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			r := resp.NewReader(src)
			var w bytes.Buffer
			n, v, err := r.ReadBulkTo(&w)
			require.NoError(t, err, tc.name)
			if tc.kind == 0 {
				assert.Equal(t, int64(len(tc.written)), n, tc.name)
				assert.True(t, w.String() == tc.written, tc.name)
			} else {
				assert.Equal(t, int64(-1), n, tc.name)
				assert.Equal(t, tc.kind, v.Kind(), tc.name)
				assert.Zero(t, w.Len(), tc.name)
			}
			next, err := r.Read()
			require.NoError(t, err, tc.name)
			got, _ := next.Int()
			assert.Equal(t, int64(42), got, "%s: in step after it", tc.name)
		}
	}
}

// failingWriter takes up to ok bytes, then fails.
type failingWriter struct {
	ok, took int
	short    bool // fail by a short write without an error
}

var errWriter = errors.New("writer broke")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.took+len(p) <= w.ok {
		w.took += len(p)
		return len(p), nil
	}
	k := w.ok - w.took
	w.took = w.ok
	if w.short {
		return k, nil
	}
	return k, errWriter
}

// TestReadBulkToWriterFails: a writer's error, or a short write, stops the
// copy and comes back as a *WriteError; the rest of the body is read past,
// and the next frame reads right.
func TestReadBulkToWriterFails(t *testing.T) {
	body := strings.Repeat("x", 200000)
	for _, short := range []bool{false, true} {
		r := resp.NewReader(strings.NewReader("$200000\r\n" + body + "\r\n+next\r\n"))
		w := &failingWriter{ok: 70000, short: short}
		n, _, err := r.ReadBulkTo(w)
		var we *resp.WriteError
		require.ErrorAs(t, err, &we)
		if short {
			assert.ErrorIs(t, err, io.ErrShortWrite)
		} else {
			assert.ErrorIs(t, err, errWriter)
		}
		assert.Equal(t, int64(70000), n)
		v, err := r.Read()
		require.NoError(t, err)
		s, _ := v.Text()
		assert.Equal(t, "next", s)
	}
}

// TestReadBulkToBroken: a body cut short, or a length past every limit,
// breaks the stream with ErrProtocol; the bytes that came before the cut
// were written.
func TestReadBulkToBroken(t *testing.T) {
	r := resp.NewReader(strings.NewReader("$100000\r\n" + strings.Repeat("y", 5000)))
	var w bytes.Buffer
	n, _, err := r.ReadBulkTo(&w)
	assert.ErrorIs(t, err, resp.ErrProtocol)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, int64(5000), n)
	assert.Equal(t, 5000, w.Len())

	r = resp.NewReader(strings.NewReader("$99999999999\r\n"))
	_, _, err = r.ReadBulkTo(&w)
	assert.ErrorIs(t, err, resp.ErrTooLarge)

	r = resp.NewReader(strings.NewReader("$3\r\nabcXY"))
	_, _, err = r.ReadBulkTo(&w)
	assert.ErrorIs(t, err, resp.ErrProtocol, "no CRLF after the body")
}

// TestReadBulkToIgnoresSoftLimit: a body over SetMaxBulkLen is streamed all
// the same, since it is not held in memory.
func TestReadBulkToIgnoresSoftLimit(t *testing.T) {
	r := resp.NewReader(strings.NewReader("$10\r\n0123456789\r\n"))
	r.SetMaxBulkLen(4)
	var w bytes.Buffer
	n, _, err := r.ReadBulkTo(&w)
	require.NoError(t, err)
	assert.Equal(t, int64(10), n)
	assert.Equal(t, "0123456789", w.String())
}

// TestReaderSmallAfterBigReply: the Reader keeps no memory of a big reply:
// after a 16 MiB bulk string, read whole or streamed, and dropped, what the
// Reader holds is its buffer and the chunks the first quarter of the body
// went through (kept for the next long body: Retained says how much), and
// after Trim its buffer alone.
func TestReaderSmallAfterBigReply(t *testing.T) {
	const size = 16 << 20
	frame := "$16777216\r\n" + strings.Repeat("z", size) + "\r\n"
	src := strings.NewReader(frame + frame + "+end\r\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := resp.NewReader(src)
	v, err := r.Read()
	require.NoError(t, err)
	s, _ := v.Text()
	require.Len(t, s, size)
	n, _, err := r.ReadBulkTo(io.Discard)
	require.NoError(t, err)
	require.Equal(t, int64(size), n)
	v = resp.Value{}
	s = ""
	heldNow := func() int64 {
		runtime.GC()
		runtime.ReadMemStats(&after)
		return int64(after.HeapInuse) - int64(before.HeapInuse)
	}
	held := heldNow()
	t.Logf("a Reader holds %d bytes after two 16 MiB replies, %d of them in chunks", held, r.Retained())
	assert.Equal(t, size/4, r.Retained(), "the chunks of the body's first quarter")
	assert.Less(t, held, int64(size/4+1<<20), "the Reader kept the big reply's memory")

	r.Trim()
	assert.Zero(t, r.Retained())
	held = heldNow()
	t.Logf("a Reader holds %d bytes after Trim", held)
	assert.Less(t, held, int64(1<<20), "Trim left the Reader's chunks in memory")
	end, err := r.Read()
	require.NoError(t, err)
	got, _ := end.Text()
	assert.Equal(t, "end", got)
	runtime.KeepAlive(r)
	_, _ = v, s
}

// readerFromWriter is a writer whose ReadFrom takes up to ok bytes, then
// fails (or, with short, returns without an error).
type readerFromWriter struct {
	failingWriter
}

func (w *readerFromWriter) ReadFrom(src io.Reader) (int64, error) {
	var total int64
	p := make([]byte, 1000)
	for {
		want := min(len(p), w.ok-w.took)
		if want == 0 {
			if w.short {
				return total, nil
			}
			return total, errWriter
		}
		k, err := src.Read(p[:want])
		w.took += k
		total += int64(k)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// TestReadBulkToReaderFrom: a writer that reads the body itself gets all of
// it; one whose ReadFrom fails or stops short leaves the Reader in step,
// with a *WriteError.
func TestReadBulkToReaderFrom(t *testing.T) {
	body := strings.Repeat("q", 200000)
	for _, tc := range []struct {
		name  string
		w     *readerFromWriter
		isErr error
	}{
		{"whole", &readerFromWriter{failingWriter{ok: 1 << 30}}, nil},
		{"fails", &readerFromWriter{failingWriter{ok: 70000}}, errWriter},
		{"short", &readerFromWriter{failingWriter{ok: 70000, short: true}}, io.ErrShortWrite},
	} {
		r := resp.NewReader(strings.NewReader("$200000\r\n" + body + "\r\n+next\r\n"))
		n, _, err := r.ReadBulkTo(tc.w)
		if tc.isErr == nil {
			require.NoError(t, err, tc.name)
			assert.Equal(t, int64(len(body)), n, tc.name)
		} else {
			var we *resp.WriteError
			require.ErrorAs(t, err, &we, tc.name)
			assert.ErrorIs(t, err, tc.isErr, tc.name)
		}
		v, err := r.Read()
		require.NoError(t, err, tc.name)
		s, _ := v.Text()
		assert.Equal(t, "next", s, "%s: in step after it", tc.name)
	}
}
