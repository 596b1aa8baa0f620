package resp_test

import (
	"bytes"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

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
		name     string
		input    func() io.Reader
		limit    int64
		maxElems int // 0: raised out of the way, so huge declared counts are tried; -1: the default
		is       error
		msg      string
	}{
		{"bulk length beyond the limit", func() io.Reader { return strings.NewReader("$2147483647\r\n") },
			0, 0, resp.ErrTooLarge, "bulk string length 2147483647 exceeds the limit"},
		{"bulk length at the limit, then EOF", func() io.Reader { return strings.NewReader("$536870912\r\n") },
			0, 0, io.ErrUnexpectedEOF, "unexpected EOF in bulk string"},
		{"verbatim length at the limit, then EOF", func() io.Reader { return strings.NewReader("=536870912\r\ntxt:") },
			0, 0, io.ErrUnexpectedEOF, "unexpected EOF in verbatim string"},
		{"array of 2^31-1, then EOF", func() io.Reader { return strings.NewReader("*2147483647\r\n") },
			0, 0, io.ErrUnexpectedEOF, "unexpected EOF in array of 2147483647 values after 0"},
		{"map of 2^31-1 pairs, some sent", func() io.Reader { return strings.NewReader("%2147483647\r\n" + strings.Repeat(":1\r\n", 1000)) },
			0, 0, io.ErrUnexpectedEOF, "after 1000"},
		{"a million nested arrays", func() io.Reader { return strings.NewReader(nested) },
			0, 0, resp.ErrTooLarge, "nested more than 128 deep"},
		{"nested arrays of a million each", func() io.Reader { return strings.NewReader(wideNested) },
			0, 0, resp.ErrTooLarge, "nested more than 128 deep"},
		{"map with an odd element count", func() io.Reader { return strings.NewReader("%3\r\n+a\r\n:1\r\n+b\r\n:2\r\n+c\r\n") },
			0, 0, io.ErrUnexpectedEOF, "map of 6 values after 5"},
		{"streamed chunks past the limit", func() io.Reader { return &endlessChunks{} },
			256 << 10, 0, resp.ErrTooLarge, "exceeds the limit of 262144 bytes"},
		{"line without end", func() io.Reader {
			return io.MultiReader(strings.NewReader("+"), bytes.NewReader(bytes.Repeat([]byte("a"), 300<<10)))
		}, 256 << 10, 0, resp.ErrTooLarge, "line longer than the limit"},
		{"array past the element limit", func() io.Reader { return strings.NewReader("*1001\r\n") },
			0, 1000, resp.ErrTooLarge, "more than the limit of 1000 elements"},
		{"array of 2^31-1 past the default element limit", func() io.Reader { return strings.NewReader("*2147483647\r\n") },
			0, -1, resp.ErrTooLarge, "more than the limit of 16777216 elements"},
		{"nested arrays past the element limit", func() io.Reader { return strings.NewReader(strings.Repeat("*600\r\n", 3)) },
			0, 1000, resp.ErrTooLarge, "more than the limit of 1000 elements"},
		{"streamed array past the element limit", func() io.Reader {
			return strings.NewReader("*?\r\n" + strings.Repeat(":1\r\n", 1001))
		}, 0, 1000, resp.ErrTooLarge, "more than the limit of 1000 elements"},
		{"attribute and value past the element limit", func() io.Reader {
			return strings.NewReader("|1\r\n+a\r\n:1\r\n*999\r\n")
		}, 0, 1000, resp.ErrTooLarge, "more than the limit of 1000 elements"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			input := tc.input()
			r := resp.NewReader(input)
			if tc.limit > 0 {
				r.SetMaxBulkLen(tc.limit)
			}
			switch {
			case tc.maxElems == 0:
				r.SetMaxElements(math.MaxInt)
			case tc.maxElems > 0:
				r.SetMaxElements(tc.maxElems)
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

// TestMaxElementsPerReply checks that the element limit counts each reply
// afresh, and that SetMaxElements(0) restores the default.
func TestMaxElementsPerReply(t *testing.T) {
	fiveElems := "*3\r\n:1\r\n*2\r\n:2\r\n:3\r\n:4\r\n" // 3 + 2 elements
	r := resp.NewReader(strings.NewReader(fiveElems + fiveElems + "*?\r\n" + strings.Repeat(":1\r\n", 6) + ".\r\n" + fiveElems))
	r.SetMaxElements(5)
	for range 2 {
		v, err := r.Read()
		require.NoError(t, err)
		require.Len(t, v.Elems(), 3)
	}
	_, err := r.Read()
	require.ErrorIs(t, err, resp.ErrTooLarge)
	assert.Contains(t, err.Error(), "more than the limit of 5 elements")

	r = resp.NewReader(strings.NewReader("*" + strconv.Itoa(resp.DefaultMaxElements+1) + "\r\n"))
	r.SetMaxElements(5)
	r.SetMaxElements(0)
	_, err = r.Read()
	require.ErrorIs(t, err, resp.ErrTooLarge)
	assert.Contains(t, err.Error(), "more than the limit of "+strconv.Itoa(resp.DefaultMaxElements)+" elements")
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

// TestHostileShortBodyAfterWholeOne checks the bound when a body needs no
// proof because the peer sent one as long whole before it: its memory is
// allocated with its header (which the proof would have put off), and a
// peer that then stops short has made the Reader allocate at most twice
// what it sent (that body's memory and the new one's), well within the five
// times of TestHostileShortBody; a longer body still needs its proof, and
// after Trim so does one as long.
func TestHostileShortBodyAfterWholeOne(t *testing.T) {
	const whole, bodyChunk = 1 << 20, 64 << 10
	tests := []struct {
		name           string
		declared, sent int
		trim           bool
		least, most    uint64 // what the short body allocates
	}{
		{"as long, nothing sent", whole, 0, false, whole, whole + 16<<10},
		{"as long, half sent", whole, whole / 2, false, whole, whole + 16<<10},
		{"longer, a little sent", 64 << 20, 100 << 10, false, 0, 128 << 10},
		{"as long after Trim", whole, 0, true, 0, bodyChunk + 16<<10}, // a chunk for its proof
	}
	t.Run("as long after Reset", func(t *testing.T) {
		r := resp.NewReader(strings.NewReader(string(resp.AppendBulkString(nil, strings.Repeat("w", whole)))))
		_, err := r.Read()
		require.NoError(t, err)
		r.Reset(strings.NewReader("$" + strconv.Itoa(whole) + "\r\n"))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = r.Read()
		runtime.ReadMemStats(&after)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		short := after.TotalAlloc - before.TotalAlloc
		assert.Less(t, short, uint64(16<<10), "a new source's short body allocated %d bytes", short)
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := string(resp.AppendBulkString(nil, strings.Repeat("w", whole)))
			header := "$" + strconv.Itoa(tc.declared) + "\r\n"
			r := resp.NewReader(strings.NewReader(first + header + strings.Repeat("s", tc.sent)))
			var start, before, after runtime.MemStats
			runtime.ReadMemStats(&start)
			v, err := r.Read()
			require.NoError(t, err)
			require.Equal(t, resp.BulkString, v.Kind())
			if tc.trim {
				r.Trim()
			}
			runtime.ReadMemStats(&before)
			_, err = r.Read()
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			short := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, short, tc.most, "the short body allocated %d bytes", short)
			assert.GreaterOrEqual(t, short, tc.least, "the short body allocated %d bytes", short)
			sent := uint64(len(first) + len(header) + tc.sent)
			total := after.TotalAlloc - start.TotalAlloc
			assert.Less(t, total, 5*sent+128<<10, "allocated %d bytes in all for %d sent", total, sent)
			runtime.KeepAlive(v)
		})
	}
}

// TestHostileManySmallElements checks the bound the package doc promises for
// replies of many small elements, the worst case for memory per byte sent:
// each 3-byte "_\r\n" becomes a whole Value. A counted aggregate allocates at
// most 2*sizeof(Value)/3 per byte sent in all and keeps sizeof(Value)/3; a
// streamed one at most twice that. Before element slices grew by doubling
// (they grew by append, about 1.25 times a step, from 16) a million nulls
// allocated some 320 MiB, more than 100 times the 3 MiB sent.
func TestHostileManySmallElements(t *testing.T) {
	const count = 1<<20 + 1 // one past a power of two: the streamed slice has just doubled
	valueSize := float64(unsafe.Sizeof(resp.Value{}))
	for _, tc := range []struct {
		name, header, trailer, element string
		factor                         float64 // 1 counted, 2 streamed
	}{
		{"counted nulls", "*" + strconv.Itoa(count) + "\r\n", "", "_\r\n", 1},
		{"streamed nulls", "*?\r\n", ".\r\n", "_\r\n", 2},
		{"counted integers", "*" + strconv.Itoa(count) + "\r\n", "", ":1\r\n", 1},
		{"streamed integers", "*?\r\n", ".\r\n", ":1\r\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire := tc.header + strings.Repeat(tc.element, count) + tc.trailer
			m := measureRead(t, resp.NewReader(strings.NewReader(wire)))
			require.NoError(t, m.err)
			require.Len(t, m.value.Elems(), count)
			if tc.factor == 1 {
				assert.Equal(t, count, cap(m.value.Elems()), "a counted aggregate ends with no spare room")
			}
			assert.Less(t, cap(m.value.Elems()), 2*count)

			sent := float64(len(wire))
			const slack = 1 << 20 // the runtime's own noise
			keptBound := tc.factor*valueSize/3*sent + slack
			totalBound := 2 * tc.factor * valueSize / 3 * sent
			t.Logf("%d KiB sent: %.1f bytes allocated, %.1f peak in use, %.1f kept per byte sent (bounds %.1f, %.1f, %.1f)",
				len(wire)>>10, float64(m.total)/sent, float64(m.peakInuse)/sent, float64(m.kept)/sent,
				totalBound/sent, totalBound/sent, keptBound/sent)
			assert.Less(t, float64(m.total), totalBound+slack, "allocated in all")
			assert.Less(t, float64(m.peakInuse), totalBound+slack, "heap in use at the peak")
			assert.Less(t, float64(m.kept), keptBound, "kept by the value")
		})
	}
}

// readMemory is what one Read cost: the bytes it allocated in all, the peak
// growth of the heap in use while it ran (sampled every millisecond), and
// what the value it returned keeps once the garbage is collected.
type readMemory struct {
	value                  resp.Value
	err                    error
	total, peakInuse, kept int64
}

func measureRead(t *testing.T, r *resp.Reader) readMemory {
	t.Helper()
	var m readMemory
	var before, now runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.value, m.err = r.Read()
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		case <-tick.C:
		}
		runtime.ReadMemStats(&now)
		m.peakInuse = max(m.peakInuse, int64(now.HeapInuse)-int64(before.HeapInuse))
	}
	m.total = int64(now.TotalAlloc - before.TotalAlloc)
	runtime.GC()
	runtime.ReadMemStats(&now)
	m.kept = int64(now.HeapAlloc) - int64(before.HeapAlloc)
	return m
}
