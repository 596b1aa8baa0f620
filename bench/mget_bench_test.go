package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// mgetter is the multi-slot MGET of a cluster client: one call for keys
// in many slots, answered in the caller's order.
type mgetter interface {
	mget(ctx context.Context, keys []string) error
}

// BenchmarkClusterMGet reads 100 keys in 100 different slots (over every
// master) per op, from one goroutine. Each library uses its nearest
// equivalent: respwire's cluster.Client.Do("MGET", ...), which splits by
// slot by the command's tips; for go-redis a pipeline of 100 GETs, which
// its cluster client splits by node (its ClusterClient.MGet answered
// CROSSSLOT for these keys); rueidis's rueidis.MGet helper, which groups
// the keys into one MGET per slot (it returns a map, not a slice).
func BenchmarkClusterMGet(b *testing.B) {
	addrs := clusterAddrs(b)
	keys := make([]string, pipelineLen)
	for i := range keys {
		keys[i] = clusterKeys[i*len(clusterKeys)/len(keys)]
	}
	b.Run("100", func(b *testing.B) {
		eachKind(b, serial(clusterAt(addrs)), func(b *testing.B, c kvClient) {
			m, ok := c.(mgetter)
			if !ok {
				b.Skip("no multi-slot MGET in this kind")
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := m.mget(ctx, keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func (r respwireClient) mget(ctx context.Context, keys []string) error {
	v, err := r.cluster.Do(ctx, append([]string{"MGET"}, keys...)...)
	if err != nil {
		return err
	}
	if len(v.Elems()) != len(keys) {
		return fmt.Errorf("bench: MGET returned %d values for %d keys", len(v.Elems()), len(keys))
	}
	for _, e := range v.Elems() {
		text, err := e.Text()
		if err != nil {
			return err
		}
		if err := checkValue(text, valueSize); err != nil {
			return err
		}
	}
	return nil
}

// mget for go-redis is a pipeline of GETs, which its cluster client splits
// by node: ClusterClient.MGet (v9.23.0, default options) answers CROSSSLOT
// for keys in several slots here.
func (c *goredisClient) mget(ctx context.Context, keys []string) error {
	pipe := c.pipe()
	replies := make([]*redis.StringCmd, len(keys))
	for i, key := range keys {
		replies[i] = pipe.Get(ctx, key)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	for _, r := range replies {
		if err := checkValue(r.Val(), valueSize); err != nil {
			return err
		}
	}
	return nil
}

func (r rueidisClient) mget(ctx context.Context, keys []string) error {
	got, err := rueidis.MGet(r.c, ctx, keys)
	if err != nil {
		return err
	}
	if len(got) != len(keys) {
		return fmt.Errorf("bench: MGet returned %d values for %d keys", len(got), len(keys))
	}
	for _, k := range keys {
		msg := got[k]
		s, err := msg.ToString()
		if err != nil {
			return err
		}
		if err := checkValue(s, valueSize); err != nil {
			return err
		}
	}
	return nil
}
