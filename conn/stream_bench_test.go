package conn

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/respwire/respwire/internal/redistest"
)

// BenchmarkBigValue reads one value of 64 KiB, 1 MiB or 16 MiB per op, from
// one goroutine: whole with Do, streamed to io.Discard with DoStream, and
// appended to a reused buffer with DoBuffer.
func BenchmarkBigValue(b *testing.B) {
	ctx := context.Background()
	for _, size := range []struct {
		name string
		n    int
	}{{"64KiB", 64 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}} {
		key := "bench:bigvalue:" + size.name
		if _, err := redistest.Server().Do(ctx, "SET", key, strings.Repeat("b", size.n)); err != nil {
			b.Fatal(err)
		}
		b.Run(size.name+"/do", func(b *testing.B) {
			c := benchConn(b)
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				v, err := c.Do(ctx, "GET", key)
				if err != nil || v.Len() != size.n {
					b.Fatal(err, v.Len())
				}
			}
		})
		b.Run(size.name+"/stream", func(b *testing.B) {
			c := benchConn(b)
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				n, err := c.DoStream(ctx, io.Discard, "GET", key)
				if err != nil || n != int64(size.n) {
					b.Fatal(err, n)
				}
			}
		})
		b.Run(size.name+"/buffer", func(b *testing.B) {
			c := benchConn(b)
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			buf := make([]byte, 0, size.n)
			for b.Loop() {
				var err error
				if buf, err = c.DoBuffer(ctx, buf[:0], "GET", key); err != nil || len(buf) != size.n {
					b.Fatal(err, len(buf))
				}
			}
		})
	}
}
