package resp_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// tripwire is a source that hands out data and then, once armed, records
// any further read and fails it: a decode that reads past what is buffered
// trips it.
type tripwire struct {
	data    []byte
	armed   bool
	tripped bool
}

var errTripped = errors.New("tripwire: read past the buffer")

func (w *tripwire) Read(p []byte) (int, error) {
	if w.armed {
		w.tripped = true
		return 0, errTripped
	}
	if len(w.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, w.data)
	w.data = w.data[n:]
	return n, nil
}

// fillAll reads r's source into its buffer until it ends or the buffer is
// full, consuming nothing.
func fillAll(r *resp.Reader) {
	for r.Fill() == nil {
	}
}

func TestBufferedFrame(t *testing.T) {
	for _, tc := range goodFrames {
		t.Run(tc.name, func(t *testing.T) {
			streamed := strings.Contains(tc.frame, "?\r\n")
			for cut := 0; cut < len(tc.frame); cut++ {
				r := resp.NewReaderSize(strings.NewReader(tc.frame[:cut]), 4096)
				fillAll(r)
				got := r.BufferedFrame()
				if streamed {
					require.LessOrEqual(t, got, 0, "the first %d bytes", cut)
				} else {
					require.Equal(t, 0, got, "the first %d bytes", cut)
				}
			}
			// Whole, with the next frame's first bytes behind it.
			r := resp.NewReaderSize(strings.NewReader(tc.frame+"$3\r\nne"), 4096)
			fillAll(r)
			want := len(tc.frame)
			if streamed {
				want = -1
			}
			assert.Equal(t, want, r.BufferedFrame())
			assert.Equal(t, len(tc.frame)+6, r.Buffered(), "nothing consumed")
		})
	}
}

func TestBufferedFrameCannotTell(t *testing.T) {
	for _, tc := range []struct {
		name, input string
	}{
		{"unknown type byte", "@what\r\n"},
		{"line without CR", "+OK\n"},
		{"empty line", "\r\n"},
		{"bad length", "$x\r\nab\r\n"},
		{"negative length", "$-2\r\n"},
		{"bulk longer than the buffer", "$5000\r\nab"},
		{"more elements than the buffer has bytes", "*5000\r\n:1\r\n"},
		{"streamed chunk", ";4\r\nHell\r\n"},
		{"stream end", ".\r\n"},
		{"line longer than the buffer", "+" + strings.Repeat("a", 5000)},
		{"frame longer than the buffer", "*3\r\n$1000\r\n" + strings.Repeat("a", 1000) + "\r\n$3100\r\n" + strings.Repeat("b", 3100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := resp.NewReaderSize(strings.NewReader(tc.input), 4096)
			fillAll(r)
			assert.Equal(t, -1, r.BufferedFrame())
		})
	}
}

// TestFillKeepsBytesOnTimeout: a Fill whose read fails, as a read past its
// deadline does, loses nothing: the frame completes with the next Fill.
func TestFillKeepsBytesOnTimeout(t *testing.T) {
	src := &stepSource{steps: []step{{data: "$10\r\nhalf-"}, {err: os.ErrDeadlineExceeded}, {data: "value\r\n:1\r\n"}}}
	r := resp.NewReaderSize(src, 4096)
	require.NoError(t, r.Fill())
	assert.Equal(t, 0, r.BufferedFrame())
	require.ErrorIs(t, r.Fill(), os.ErrDeadlineExceeded)
	assert.Equal(t, 10, r.Buffered())
	require.NoError(t, r.Fill())
	require.Equal(t, 17, r.BufferedFrame())
	v, err := r.Read()
	require.NoError(t, err)
	assert.True(t, v.Equal(resp.NewBulkString("half-value")), "%v", v)
	assert.Equal(t, 4, r.BufferedFrame())
}

func TestFillFullBuffer(t *testing.T) {
	r := resp.NewReaderSize(strings.NewReader(strings.Repeat("+aaaaaaa\r\n", 1000)), 16)
	fillAll(r)
	assert.Equal(t, r.Size(), r.Buffered())
	assert.ErrorIs(t, r.Fill(), bufio.ErrBufferFull)
	assert.Equal(t, 10, r.BufferedFrame(), "the first frame is whole")
}

// step is one read of a stepSource: data, or an error.
type step struct {
	data string
	err  error
}

// stepSource returns its steps one read at a time, then io.EOF.
type stepSource struct{ steps []step }

func (s *stepSource) Read(p []byte) (int, error) {
	if len(s.steps) == 0 {
		return 0, io.EOF
	}
	st := s.steps[0]
	if st.err != nil {
		s.steps = s.steps[1:]
		return 0, st.err
	}
	n := copy(p, st.data)
	if n == len(st.data) {
		s.steps = s.steps[1:]
	} else {
		s.steps[0].data = st.data[n:]
	}
	return n, nil
}

// FuzzBufferedFrame checks BufferedFrame's promise on any input: when it
// says a frame of n bytes is buffered, Read decodes it without reading the
// source and consumes exactly n bytes, unless the frame is malformed in a
// way only decoding finds (then Read still reads nothing more).
func FuzzBufferedFrame(f *testing.F) {
	for _, tc := range goodFrames {
		f.Add([]byte(tc.frame + tc.frame))
	}
	for _, tc := range badFrames {
		f.Add([]byte(tc.frame))
	}
	for _, frame := range truncatedFrames {
		f.Add([]byte(frame))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &tripwire{data: data}
		r := resp.NewReaderSize(src, 512)
		r.SetMaxBulkLen(100)
		r.SetMaxElements(50)
		r.SetMaxDepth(8)
		for {
			fillAll(r)
			n := r.BufferedFrame()
			if n <= 0 {
				return
			}
			before := r.Buffered()
			src.armed = true
			_, err := r.Read()
			if src.tripped {
				t.Fatalf("Read of a %d-byte frame said to be buffered read the source (%v)", n, err)
			}
			var skipped *resp.SkippedError
			if err != nil && !errors.As(err, &skipped) {
				return // malformed inside: the stream is refused
			}
			if got := before - r.Buffered(); got != n {
				t.Fatalf("Read consumed %d bytes of a %d-byte frame", got, n)
			}
			src.armed = false
		}
	})
}
