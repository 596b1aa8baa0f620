package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/slots"
	"go.uber.org/goleak"
)

// TestMain starts a standalone server and a 3+3 cluster, or uses the ones
// REDIS_ADDR and REDIS_CLUSTER_ADDRS name (cmd/benchtable starts them once
// for all its runs), and stops what it started. goleak is told about one
// goroutine of a peer's: rueidis's cluster client, once closed, leaves a
// topology refresh sleeping for up to 5 s before it exits.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(redistest.Setup(m, redistest.NeedServer|redistest.NeedCluster),
		goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"))
}

// The data every workload reads was written before it starts, once per
// process, by go-redis's plain pipelines (not by a client under test).
const (
	value16      = "0123456789abcdef" // valueSize bytes
	bigKey       = "bench:big"
	bigValueSize = 1 << 20
	numKeys      = 1024
)

var (
	getKeys = keyRange("bench:get:", numKeys)
	setKeys = keyRange("bench:set:", numKeys)
	// clusterKeys holds one key per slot, in slot order, so the cluster
	// workload spreads evenly over every slot and node.
	clusterKeys []string

	standaloneData = sync.OnceValue(func() error { return writeStandalone(redistest.Server().Addr) })
	clusterData    = sync.OnceValue(func() error {
		clusterKeys = keysForEverySlot("bench:slot:")
		return writeCluster(redistest.Cluster().Addrs())
	})
)

func standaloneAddr(b *testing.B) string {
	if err := standaloneData(); err != nil {
		b.Fatal(err)
	}
	return redistest.Server().Addr
}

func clusterAddrs(b *testing.B) []string {
	if err := clusterData(); err != nil {
		b.Fatal(err)
	}
	return redistest.Cluster().Addrs()
}

func keyRange(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return keys
}

func keysForEverySlot(prefix string) []string {
	keys := make([]string, slots.NumSlots)
	for i, missing := 0, slots.NumSlots; missing > 0; i++ {
		key := fmt.Sprintf("%s%d", prefix, i)
		if slot := slots.Slot(key); keys[slot] == "" {
			keys[slot] = key
			missing--
		}
	}
	return keys
}

func writeStandalone(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTime)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, key := range getKeys {
			p.Set(ctx, key, value16, 0)
		}
		p.Set(ctx, bigKey, strings.Repeat("v", bigValueSize), 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("bench: write standalone keys: %w", err)
	}
	return nil
}

func writeCluster(addrs []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTime)
	defer cancel()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer rdb.Close()
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, key := range clusterKeys {
			p.Set(ctx, key, value16, 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bench: write cluster keys: %w", err)
	}
	return nil
}
