package bench

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Streamed reads of large values: each library's way to read a GET reply
// into the caller's memory without holding the value in memory of its own.
// respwire: DoBuffer, appending into the caller's slice; go-redis:
// GetToBuffer; rueidis: DoStream's WriteTo, into a writer over the slice.
// Every op reads into the same preallocated buffer.

// bufferGetter is a client that can read a value into the caller's buffer.
type bufferGetter interface {
	getToBuffer(ctx context.Context, key string, buf []byte) (int, error)
}

func (r respwireClient) getToBuffer(ctx context.Context, key string, buf []byte) (int, error) {
	var got []byte
	var err error
	if r.std != nil {
		got, err = r.std.DoBuffer(ctx, buf[:0], "GET", key)
	} else {
		got, err = r.cluster.DoBuffer(ctx, buf[:0], "GET", key)
	}
	return len(got), err
}

func (c *goredisClient) getToBuffer(ctx context.Context, key string, buf []byte) (int, error) {
	g, ok := c.cmds.(interface {
		GetToBuffer(ctx context.Context, key string, buf []byte) *redis.ZeroCopyStringCmd
	})
	if !ok {
		return 0, fmt.Errorf("bench: %T has no GetToBuffer", c.cmds)
	}
	return g.GetToBuffer(ctx, key, buf).Result()
}

func (r rueidisClient) getToBuffer(ctx context.Context, key string, buf []byte) (int, error) {
	s := r.c.DoStream(ctx, r.c.B().Get().Key(key).Build())
	w := sliceWriter{buf: buf[:0]}
	n, err := s.WriteTo(&w)
	return int(n), err
}

// sliceWriter appends to buf within its capacity, and fails past it.
type sliceWriter struct{ buf []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	if len(w.buf)+len(p) > cap(w.buf) {
		return 0, io.ErrShortBuffer
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// serialGetToBuffer reads keys one after the other into one buffer, for
// the kinds that can.
func serialGetToBuffer(b *testing.B, c kvClient, keys []string, size int) {
	bg, ok := c.(bufferGetter)
	if !ok {
		b.Skip("no streamed read")
	}
	ctx := context.Background()
	buf := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n, err := bg.getToBuffer(ctx, keys[i%len(keys)], buf)
		if err != nil {
			b.Fatal(err)
		}
		if n != size {
			b.Fatalf("bench: a streamed GET read %d bytes, want %d", n, size)
		}
	}
}
