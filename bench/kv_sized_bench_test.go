package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/respwire/respwire/internal/redistest"
)

// Values of the sizes users store, beside the 16-byte ones: each size has
// keys of its own, written on first use by the workloads that read them (so
// a run that selects none of them writes none).
var (
	values1KiB  = newValueSet("bench:1k:", numKeys, 1<<10)
	values16KiB = newValueSet("bench:16k:", numKeys, 16<<10)
	values16MiB = newValueSet("bench:16m:", 1, 16<<20)
)

// valueSet is a set of keys on the standalone server that all hold one
// value of one size.
type valueSet struct {
	keys  []string
	value string
	write func() error
}

func newValueSet(prefix string, n, size int) *valueSet {
	vs := &valueSet{keys: keyRange(prefix, n), value: strings.Repeat("v", size)}
	vs.write = sync.OnceValue(func() error { return writeValues(redistest.Server().Addr, vs.keys, vs.value) })
	return vs
}

// at returns the standalone server's address once the keys hold the value.
func (vs *valueSet) at(b *testing.B) string {
	addr := standaloneAddr(b)
	if err := vs.write(); err != nil {
		b.Fatal(err)
	}
	return addr
}

func writeValues(addr string, keys []string, value string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTime)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, key := range keys {
			p.Set(ctx, key, value, 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bench: write %d keys of %d bytes: %w", len(keys), len(value), err)
	}
	return nil
}

// BenchmarkGet1KiB reads 1 KiB values from 64×GOMAXPROCS goroutines.
func BenchmarkGet1KiB(b *testing.B) { benchParallelGet(b, values1KiB) }

// BenchmarkGet16KiB reads 16 KiB values from 64×GOMAXPROCS goroutines.
func BenchmarkGet16KiB(b *testing.B) { benchParallelGet(b, values16KiB) }

// BenchmarkSet1KiB writes 1 KiB values from 64×GOMAXPROCS goroutines.
func BenchmarkSet1KiB(b *testing.B) { benchParallelSet(b, values1KiB.value) }

// BenchmarkSet16KiB writes 16 KiB values from 64×GOMAXPROCS goroutines.
func BenchmarkSet16KiB(b *testing.B) { benchParallelSet(b, values16KiB.value) }

// BenchmarkGet16MiB reads one 16 MiB value per op, from one goroutine: with
// a plain GET, the whole reply in memory, and streamed into one buffer of
// the caller's (see serialGetToBuffer).
func BenchmarkGet16MiB(b *testing.B) {
	addr := values16MiB.at(b)
	b.Run("serial", func(b *testing.B) {
		eachKind(b, serial(standaloneAt(addr)), func(b *testing.B, c kvClient) {
			b.SetBytes(int64(len(values16MiB.value)))
			serialGet(b, c, values16MiB.keys, len(values16MiB.value))
		})
	})
	b.Run("serial-streamed", func(b *testing.B) {
		eachKind(b, serial(standaloneAt(addr)), func(b *testing.B, c kvClient) {
			serialGetToBuffer(b, c, values16MiB.keys, len(values16MiB.value))
		})
	})
}

func benchParallelGet(b *testing.B, vs *valueSet) {
	addr := vs.at(b)
	b.Run("parallel", func(b *testing.B) {
		eachKind(b, standaloneAt(addr), func(b *testing.B, c kvClient) {
			b.SetBytes(int64(len(vs.value)))
			runParallel(b, getOp(c, vs.keys, len(vs.value)))
		})
	})
}

func benchParallelSet(b *testing.B, value string) {
	addr := standaloneAddr(b)
	b.Run("parallel", func(b *testing.B) {
		eachKind(b, standaloneAt(addr), func(b *testing.B, c kvClient) {
			b.SetBytes(int64(len(value)))
			runParallel(b, func(ctx context.Context, i int) error {
				return c.set(ctx, setKeys[i%len(setKeys)], value)
			})
		})
	})
}
