package bench

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/respwire/respwire/conn"
)

// Client-side caching, side by side: respwire's DoCache, rueidis's DoCache
// (its default cache) and go-redis's ClientSideCacheConfig (RESP3, DB 0).
// Each caches GET replies for cacheTTL where the API takes a ttl.

const (
	cacheTTL  = time.Hour
	mixKeys   = 10000
	mixWrites = 10 // one op in mixWrites is a SET, the rest cached GETs
)

var mixKeyNames = keyRange("bench:mix:", mixKeys)

// cacheClient is one client-side cache under test.
type cacheClient interface {
	cachedGet(ctx context.Context, key string) (string, error)
	set(ctx context.Context, key, value string) error
	close() error
}

type cacheKind struct {
	name string
	dial func(ctx context.Context, addr string) (cacheClient, error)
}

func cacheKinds() []cacheKind {
	return []cacheKind{
		{"respwire", func(ctx context.Context, addr string) (cacheClient, error) {
			c, err := conn.NewClient(ctx, addr, nil) // caching is on by default
			return respwireCache{c}, err
		}},
		{"rueidis", func(ctx context.Context, addr string) (cacheClient, error) {
			c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}})
			return rueidisCache{c}, err
		}},
		{"goredis", func(ctx context.Context, addr string) (cacheClient, error) {
			c := redis.NewClient(&redis.Options{
				Addr: addr, Protocol: 3,
				ClientSideCacheConfig: &redis.ClientSideCacheConfig{MaxMemoryBytes: conn.DefaultCacheMaxBytes},
			})
			return goredisCache{c}, c.Ping(ctx).Err()
		}},
	}
}

type respwireCache struct{ c *conn.Client }

func (r respwireCache) cachedGet(ctx context.Context, key string) (string, error) {
	v, err := r.c.DoCache(ctx, cacheTTL, "GET", key)
	if err != nil || v.IsNull() {
		return "", err
	}
	return v.Text()
}

func (r respwireCache) set(ctx context.Context, key, value string) error {
	_, err := r.c.Do(ctx, "SET", key, value)
	return err
}

func (r respwireCache) close() error { return r.c.Close() }

type rueidisCache struct{ c rueidis.Client }

func (r rueidisCache) cachedGet(ctx context.Context, key string) (string, error) {
	s, err := r.c.DoCache(ctx, r.c.B().Get().Key(key).Cache(), cacheTTL).ToString()
	if rueidis.IsRedisNil(err) {
		return "", nil
	}
	return s, err
}

func (r rueidisCache) set(ctx context.Context, key, value string) error {
	return r.c.Do(ctx, r.c.B().Set().Key(key).Value(value).Build()).Error()
}

func (r rueidisCache) close() error {
	r.c.Close()
	return nil
}

type goredisCache struct{ c *redis.Client }

func (g goredisCache) cachedGet(ctx context.Context, key string) (string, error) {
	s, err := g.c.Get(ctx, key).Result()
	if err == redis.Nil {
		return "", nil
	}
	return s, err
}

func (g goredisCache) set(ctx context.Context, key, value string) error {
	return g.c.Set(ctx, key, value, 0).Err()
}

func (g goredisCache) close() error { return g.c.Close() }

// eachCache runs a workload once per cache kind, on a fresh client.
func eachCache(b *testing.B, run func(b *testing.B, c cacheClient)) {
	addr := standaloneAddr(b)
	for _, k := range cacheKinds() {
		b.Run(k.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), setupTime)
			defer cancel()
			c, err := k.dial(ctx, addr)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				b.StopTimer()
				if err := c.close(); err != nil {
					b.Error(err)
				}
			}()
			run(b, c)
		})
	}
}

// BenchmarkCache measures client-side caching: hits (serial and from
// 64×GOMAXPROCS goroutines) over the 1024 GET keys, all cached beforehand;
// serial misses (each op a key never read before); and a parallel mix of 90%
// cached GETs and 10% SETs over 10,000 keys, where each SET invalidates the
// entry of every client that cached that key.
func BenchmarkCache(b *testing.B) {
	warmCache := func(b *testing.B, c cacheClient) {
		ctx := context.Background()
		for _, k := range getKeys {
			v, err := c.cachedGet(ctx, k)
			if err != nil {
				b.Fatal(err)
			}
			if err := checkValue(v, valueSize); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("hit-serial", func(b *testing.B) {
		eachCache(b, func(b *testing.B, c cacheClient) {
			warmCache(b, c)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				v, err := c.cachedGet(ctx, getKeys[i%len(getKeys)])
				if err != nil {
					b.Fatal(err)
				}
				if err := checkValue(v, valueSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("hit-parallel", func(b *testing.B) {
		eachCache(b, func(b *testing.B, c cacheClient) {
			warmCache(b, c)
			runParallel(b, func(ctx context.Context, i int) error {
				v, err := c.cachedGet(ctx, getKeys[i%len(getKeys)])
				if err != nil {
					return err
				}
				return checkValue(v, valueSize)
			})
		})
	})
	var run atomic.Int64 // keeps every run's miss keys new
	b.Run("miss-serial", func(b *testing.B) {
		eachCache(b, func(b *testing.B, c cacheClient) {
			prefix := "bench:miss:" + strconv.FormatInt(run.Add(1), 10) + ":"
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := c.cachedGet(ctx, prefix+strconv.Itoa(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("mix-90-10", func(b *testing.B) {
		eachCache(b, func(b *testing.B, c cacheClient) {
			ctx := context.Background()
			for _, k := range mixKeyNames {
				if err := c.set(ctx, k, value16); err != nil {
					b.Fatal(err)
				}
			}
			runParallel(b, func(ctx context.Context, i int) error {
				k := mixKeyNames[(i*7)%mixKeys]
				if i%mixWrites == 0 {
					return c.set(ctx, k, value16)
				}
				v, err := c.cachedGet(ctx, k)
				if err != nil {
					return err
				}
				return checkValue(v, valueSize)
			})
		})
	})
}
