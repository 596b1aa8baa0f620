package resp_test

import (
	"bytes"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// endlessChunks is a streamed string that never ends: "$?" then 1 KiB
// chunks forever.
type endlessChunks struct{ started bool }

func (e *endlessChunks) Read(p []byte) (int, error) {
	chunk := ";1024\r\n" + strings.Repeat("x", 1024) + "\r\n"
	n := 0
	if !e.started {
		n = copy(p, "$?\r\n")
		e.started = true
	}
	for n+len(chunk) <= len(p) {
		n += copy(p[n:], chunk)
	}
	return n, nil
}

// TestHostileInput feeds frames that declare far more than they deliver or
// nest without end. Each must fail at once with little memory allocated: the
// reader must never trust a declared size.
func TestHostileInput(t *testing.T) {
	const budget = 1 << 20 // bytes the reader may allocate for any of these
	nested := strings.Repeat("*1\r\n", 1_000_000)
	wideNested := strings.Repeat("*1000000\r\n", 200)
	tests := []struct {
		name  string
		input func() io.Reader
		limit int64
		is    error
		msg   string
	}{
		{"bulk length beyond the limit", func() io.Reader { return strings.NewReader("$2147483647\r\n") },
			0, resp.ErrTooLarge, "bulk string length 2147483647 exceeds the limit"},
		{"bulk length at the limit, then EOF", func() io.Reader { return strings.NewReader("$536870912\r\n") },
			0, io.ErrUnexpectedEOF, "unexpected EOF in bulk string"},
		{"verbatim length at the limit, then EOF", func() io.Reader { return strings.NewReader("=536870912\r\ntxt:") },
			0, io.ErrUnexpectedEOF, "unexpected EOF in verbatim string"},
		{"array of 2^31-1, then EOF", func() io.Reader { return strings.NewReader("*2147483647\r\n") },
			0, io.ErrUnexpectedEOF, "unexpected EOF in array of 2147483647 values after 0"},
		{"map of 2^31-1 pairs, some sent", func() io.Reader { return strings.NewReader("%2147483647\r\n" + strings.Repeat(":1\r\n", 1000)) },
			0, io.ErrUnexpectedEOF, "after 1000"},
		{"a million nested arrays", func() io.Reader { return strings.NewReader(nested) },
			0, resp.ErrTooLarge, "nested more than 128 deep"},
		{"nested arrays of a million each", func() io.Reader { return strings.NewReader(wideNested) },
			0, resp.ErrTooLarge, "nested more than 128 deep"},
		{"map with an odd element count", func() io.Reader { return strings.NewReader("%3\r\n+a\r\n:1\r\n+b\r\n:2\r\n+c\r\n") },
			0, io.ErrUnexpectedEOF, "map of 6 values after 5"},
		{"streamed chunks past the limit", func() io.Reader { return &endlessChunks{} },
			256 << 10, resp.ErrTooLarge, "exceeds the limit of 262144 bytes"},
		{"line without end", func() io.Reader {
			return io.MultiReader(strings.NewReader("+"), bytes.NewReader(bytes.Repeat([]byte("a"), 300<<10)))
		}, 256 << 10, resp.ErrTooLarge, "line longer than the limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			input := tc.input()
			r := resp.NewReader(input)
			if tc.limit > 0 {
				r.SetMaxBulkLen(tc.limit)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := r.Read()
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.ErrorIs(t, err, resp.ErrProtocol)
			assert.Contains(t, err.Error(), tc.msg)
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(budget), "allocated %d bytes", allocated)
		})
	}
}

// TestHostileWithinLimits checks that honest large input still decodes when
// it arrives in dribbles, so the defences above cost nothing in correctness.
func TestHostileWithinLimits(t *testing.T) {
	count := 100_000
	var frame []byte
	frame = resp.AppendArrayHeader(frame, count)
	for i := range count {
		frame = resp.AppendInt(frame, int64(i))
	}
	v, err := resp.NewReaderSize(&dribble{data: frame}, 64).Read()
	require.NoError(t, err)
	require.Len(t, v.Elems(), count)
	last, err := v.Elems()[count-1].Int()
	require.NoError(t, err)
	assert.Equal(t, int64(count-1), last)
}

// dribble hands out at most 7 bytes per Read.
type dribble struct{ data []byte }

func (d *dribble) Read(p []byte) (int, error) {
	if len(d.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], d.data)
	d.data = d.data[n:]
	return n, nil
}

// TestHostileShortBody checks that what a long body costs follows the bytes
// the peer sent, not the length it declared: a body is allocated whole only
// once a quarter of it has arrived, so a peer that stops short has made the
// reader allocate at most about five times what it sent (the body and the
// chunks that held its first quarter), plus a chunk.
func TestHostileShortBody(t *testing.T) {
	tests := []struct{ declared, sent int }{
		{64 << 20, 0},
		{64 << 20, 100 << 10},
		{64 << 20, 1 << 20},
		{4 << 20, 1<<20 + 1}, // just past the quarter: the whole body is allocated
		{1 << 20, 256 << 10},
		{100 << 10, 10},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.declared)+"/"+strconv.Itoa(tc.sent), func(t *testing.T) {
			header := "$" + strconv.Itoa(tc.declared) + "\r\n"
			input := io.MultiReader(strings.NewReader(header), bytes.NewReader(make([]byte, tc.sent)))
			r := resp.NewReader(input)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := r.Read()
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			allocated := after.TotalAlloc - before.TotalAlloc
			bound := uint64(5*tc.sent + 128<<10)
			assert.Less(t, allocated, bound, "allocated %d bytes for %d sent", allocated, tc.sent)
		})
	}
}
