package bench

import (
	"context"
	"testing"
	"time"
)

// callTimeout is the deadline each call of the deadline workloads carries:
// long enough never to expire on a loaded machine, so what is measured is
// the cost of carrying it.
const callTimeout = 10 * time.Second

// BenchmarkGetDeadline is BenchmarkGet with a context.WithTimeout around
// every call, as a server handling requests passes one: 16-byte values, from
// one goroutine and from 64×GOMAXPROCS.
func BenchmarkGetDeadline(b *testing.B) {
	addr := standaloneAddr(b)
	b.Run("serial", func(b *testing.B) {
		eachKind(b, serial(standaloneAt(addr)), func(b *testing.B, c kvClient) {
			get := deadlineGetOp(c)
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := get(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("parallel", func(b *testing.B) {
		eachKind(b, standaloneAt(addr), func(b *testing.B, c kvClient) { runParallel(b, deadlineGetOp(c)) })
	})
}

// deadlineGetOp is getOp over the 16-byte keys, each call under its own
// callTimeout deadline.
func deadlineGetOp(c kvClient) func(ctx context.Context, i int) error {
	get := getOp(c, getKeys, valueSize)
	return func(ctx context.Context, i int) error {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return get(ctx, i)
	}
}
