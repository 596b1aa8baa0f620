package resp_test

import (
	"strings"
	"testing"

	"github.com/respwire/respwire/internal/repeatreader"
	"github.com/respwire/respwire/resp"
)

func BenchmarkReader(b *testing.B) {
	cases := []struct {
		name  string
		frame []byte
	}{
		{"bulk16", resp.AppendBulkString(nil, "0123456789abcdef")},
		{"bulk64KiB", resp.AppendBulkString(nil, strings.Repeat("x", 64<<10))},
		{"bulk1MiB", resp.AppendBulkString(nil, strings.Repeat("x", 1<<20))},
		{"bulk16MiB", resp.AppendBulkString(nil, strings.Repeat("x", 16<<20))},
		{"ok", []byte("+OK\r\n")},
		{"integer", []byte(":123456\r\n")},
		{"null", []byte("_\r\n")},
		{"double", []byte(",3.14159\r\n")},
		{"array10", resp.AppendCommand(nil, "a", "bb", "ccc", "dddd", "e", "f", "g", "h", "i", "j")},
		{"map3", resp.AppendValue(nil, resp.NewMap(
			resp.NewBulkString("server"), resp.NewBulkString("redis"),
			resp.NewBulkString("proto"), resp.NewInt(3),
			resp.NewBulkString("modules"), resp.NewArray()))},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			r := resp.NewReaderSize(&repeatreader.Reader{Frame: tc.frame}, 16<<10)
			b.SetBytes(int64(len(tc.frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendCommand(b *testing.B) {
	b.Run("get", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		b.ReportAllocs()
		for b.Loop() {
			buf = resp.AppendCommand(buf[:0], "GET", "key:000000001")
		}
	})
	b.Run("set", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		b.ReportAllocs()
		for b.Loop() {
			buf = resp.AppendCommand(buf[:0], "SET", "key:000000001", "0123456789abcdef")
		}
	})
	b.Run("bytes", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		args := [][]byte{[]byte("SET"), []byte("key:000000001"), []byte("0123456789abcdef")}
		b.ReportAllocs()
		for b.Loop() {
			buf = resp.AppendCommandBytes(buf[:0], args...)
		}
	})
}

func BenchmarkAppendValue(b *testing.B) {
	v := resp.NewArray(resp.NewBulkString("message"), resp.NewBulkString("channel"), resp.NewInt(42))
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = resp.AppendValue(buf[:0], v)
	}
}

// TestAllocations pins the allocation counts the connection's hot path
// relies on: a GET reply costs its string, replies without payload cost
// nothing, and encoding into a buffer with room costs nothing.
func TestAllocations(t *testing.T) {
	reads := []struct {
		frame string
		want  float64
	}{
		{"$16\r\n0123456789abcdef\r\n", 1},
		{"+OK\r\n", 0},
		{"+PONG\r\n", 0},
		{"+QUEUED\r\n", 0},
		{":123456\r\n", 0},
		{"_\r\n", 0},
		{"$-1\r\n", 0},
		{"#t\r\n", 0},
		{",3.25\r\n", 0},
		{"*2\r\n:1\r\n:2\r\n", 1},
	}
	for _, tc := range reads {
		r := resp.NewReaderSize(repeatreader.New(tc.frame), 4096)
		got := testing.AllocsPerRun(200, func() {
			if _, err := r.Read(); err != nil {
				t.Fatal(err)
			}
		})
		if got != tc.want {
			t.Errorf("reading %q: %v allocations, want %v", tc.frame, got, tc.want)
		}
	}
	buf := make([]byte, 0, 256)
	if got := testing.AllocsPerRun(200, func() {
		buf = resp.AppendCommand(buf[:0], "SET", "key", "0123456789abcdef")
	}); got != 0 {
		t.Errorf("AppendCommand into a roomy buffer: %v allocations, want 0", got)
	}
}

// BenchmarkReadRun decodes the replies of a pipeline from one buffer, as a
// Conn's reader does: 100 GETs of 16-byte values, and 33 one-key MGETs (a
// node's share of a split MGET of 100 keys).
func BenchmarkReadRun(b *testing.B) {
	get := strings.Repeat(string(resp.AppendBulkString(nil, "0123456789abcdef")), 100)
	mget := strings.Repeat("*1\r\n"+string(resp.AppendBulkString(nil, "0123456789abcdef")), 33)
	for _, tc := range []struct {
		name, input string
		n           int
	}{{"get100", get, 100}, {"mget33", mget, 33}} {
		b.Run(tc.name, func(b *testing.B) {
			src := repeatreader.New(tc.input)
			r := resp.NewReaderSize(src, len(tc.input))
			dst := make([]resp.Value, tc.n)
			b.SetBytes(int64(len(tc.input)))
			b.ReportAllocs()
			for b.Loop() {
				if err := r.WaitFrame(); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < tc.n; {
					n := r.ReadRun(dst[got:], true)
					if n == 0 {
						b.Fatalf("ReadRun took nothing after %d", got)
					}
					got += n
				}
			}
		})
	}
}
