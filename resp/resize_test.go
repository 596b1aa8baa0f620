package resp_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// TestResizeKeepsBufferedBytes resizes a Reader between frames while bytes of
// the next frames are buffered, growing and shrinking in turn, and checks
// that every frame still decodes in order and that Buffered and PeekKind
// count the bytes carried over from the old buffer.
func TestResizeKeepsBufferedBytes(t *testing.T) {
	var wire bytes.Buffer
	var want []string
	for i := range 200 {
		v := strings.Repeat(strconv.Itoa(i%10), 1+i*97%20000)
		want = append(want, v)
		wire.WriteString("$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n")
	}
	total := wire.Len()
	r := resp.NewReaderSize(&wire, 16<<10)
	sizes := []int{64 << 10, 16 << 10, 32 << 10, 16}
	for i, w := range want {
		if i%3 == 0 {
			before := r.Buffered()
			r.Resize(sizes[i/3%len(sizes)])
			assert.GreaterOrEqual(t, r.Size(), sizes[i/3%len(sizes)])
			assert.Equal(t, before, r.Buffered(), "bytes buffered before and after Resize, at frame %d", i)
			if before > 0 {
				assert.Equal(t, resp.BulkString, r.PeekKind(), "the next frame's type, carried over, at frame %d", i)
			}
		}
		v, err := r.Read()
		require.NoError(t, err, "frame %d", i)
		require.True(t, resp.NewBulkString(w).Equal(v), "frame %d", i)
	}
	assert.Zero(t, r.Buffered())
	assert.Zero(t, wire.Len(), "all %d bytes read", total)
}

// TestResizeTwiceWhileCarrying resizes again before the bytes carried over by
// the first Resize are decoded: they must come after the ones buffered.
func TestResizeTwiceWhileCarrying(t *testing.T) {
	frames := "+one\r\n+two\r\n+three\r\n+four\r\n"
	r := resp.NewReaderSize(strings.NewReader(frames), 16)
	require.NoError(t, r.WaitFrame()) // buffers the first 16 bytes
	r.Resize(64)                      // carries them
	v, err := r.Read()                // reads part of the carried bytes into the new buffer
	require.NoError(t, err)
	assert.True(t, resp.NewSimpleString("one").Equal(v))
	r.Resize(16) // buffered and still carried bytes, in that order
	for _, want := range []string{"two", "three", "four"} {
		v, err := r.Read()
		require.NoError(t, err)
		assert.True(t, resp.NewSimpleString(want).Equal(v), want)
	}
}

// TestResizeSharesNoBuffer: Readers on several goroutines resize at random
// between frames, growing and shrinking, often with bytes of the next
// frames buffered. The buffers they move between come from one pool, and a
// buffer goes back only when nothing is read from it any more: each Reader
// decodes exactly its own frames (under -race, a buffer two Readers use at
// once is also a reported race).
func TestResizeSharesNoBuffer(t *testing.T) {
	const readers, frames = 4, 400
	sizes := []int{16, 64, 4 << 10, 16 << 10, 64 << 10}
	errs := make(chan error, readers)
	for g := range readers {
		go func() {
			errs <- func() error {
				var wire bytes.Buffer
				var want []string
				for i := range frames {
					v := strings.Repeat(strconv.Itoa((g+i)%10), 1+(i*131+g*7)%9000)
					want = append(want, v)
					wire.WriteString("$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n")
				}
				r := resp.NewReaderSize(&wire, 16<<10)
				for i, w := range want {
					if (i+g)%2 == 0 {
						r.Resize(sizes[(i*7+g)%len(sizes)])
					}
					v, err := r.Read()
					if err != nil {
						return err
					}
					if !resp.NewBulkString(w).Equal(v) {
						return fmt.Errorf("reader %d, frame %d: %.20q…, want %.20q…", g, i, v.String(), w)
					}
				}
				return nil
			}()
		}()
	}
	for range readers {
		assert.NoError(t, <-errs)
	}
}

// pacedSource gives at most max bytes per Read, as a server writing a long
// value in pieces does, and records where each Read was asked to write.
type pacedSource struct {
	src   *bytes.Reader
	max   int
	reads [][]byte
}

func (p *pacedSource) Read(b []byte) (int, error) {
	n, err := p.src.Read(b[:min(len(b), p.max)])
	p.reads = append(p.reads, b[:n])
	return n, err
}

// TestLongBodyIsNotCopiedTwice: with a buffer bigger than a long body's
// pieces (a busy connection's 512 KiB), the body is still read straight into
// its own memory, ReadBulkTo's chunk or a ReaderFrom's buffer, once the
// bytes already buffered are taken: only its first piece and its end,
// shorter than a chunk, go through the Reader's buffer, for a first long body
// and for one as long as a body read whole before. Before, every piece was read into the buffer
// and copied out of it again.
func TestLongBodyIsNotCopiedTwice(t *testing.T) {
	const size = 1 << 20
	body := strings.Repeat("L", size)
	bulk := "$" + strconv.Itoa(size) + "\r\n" + body + "\r\n"
	frame := bulk + bulk + "+next\r\n" // the second body as long as one read whole
	for _, tc := range []struct {
		name string
		read func(*resp.Reader) (string, error)
	}{
		{"Read", func(r *resp.Reader) (string, error) {
			v, err := r.Read()
			if err != nil {
				return "", err
			}
			return v.Text()
		}},
		{"ReadBulkTo", func(r *resp.Reader) (string, error) {
			var out strings.Builder
			_, _, err := r.ReadBulkTo(writerOnly{&out})
			return out.String(), err
		}},
		{"ReadBulkTo a ReaderFrom", func(r *resp.Reader) (string, error) {
			var out bytes.Buffer
			out.Grow(2 * size)
			_, _, err := r.ReadBulkTo(&out)
			return out.String(), err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &pacedSource{src: bytes.NewReader([]byte(frame)), max: 64 << 10}
			r := resp.NewReaderSize(src, 16<<10)
			r.Resize(512 << 10)
			for range 2 {
				got, err := tc.read(r)
				require.NoError(t, err)
				require.True(t, got == body, "the body differs")
			}
			next, err := r.Read()
			require.NoError(t, err)
			assert.True(t, resp.NewSimpleString("next").Equal(next))
			// The first read fills the Reader's buffer; count the
			// bytes of every read into it.
			buf := src.reads[0][:cap(src.reads[0])]
			start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
			buffered := 0
			for _, b := range src.reads {
				if at := uintptr(unsafe.Pointer(unsafe.SliceData(b))); at >= start && at < start+uintptr(len(buf)) {
					buffered += len(b)
				}
			}
			assert.Less(t, buffered, 2*128<<10, "bytes of 2×%d read through the buffer, in %d reads", size, len(src.reads))
		})
	}
}

// writerOnly hides a writer's ReadFrom.
type writerOnly struct {
	w interface{ Write([]byte) (int, error) }
}

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }
