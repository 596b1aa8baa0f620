package cluster_test

import (
	"context"
	"fmt"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/internal/redistest"
)

// DoCache caches a read at the master of the key's slot; DoMultiCache
// groups its reads by master, one write per master.
func ExampleClient_DoCache() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.Do(ctx, "SET", "example:cached", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		v, err := c.DoCache(ctx, time.Minute, "GET", "example:cached")
		if err != nil {
			fmt.Println(err)
			return
		}
		s, _ := v.Text()
		fmt.Println(s)
	}
	fmt.Println("server reads:", c.CacheStats().Misses)
	// Output:
	// hello
	// hello
	// server reads: 1
}

func ExampleClient_DoMultiCache() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.New(ctx, &cluster.Options{Addrs: redistest.Cluster().Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for _, k := range []string{"example:x", "example:y", "example:z"} {
		if _, err := c.Do(ctx, "SET", k, k+"-value"); err != nil {
			fmt.Println(err)
			return
		}
	}
	vals, err := c.DoMultiCache(ctx, time.Minute,
		[]string{"GET", "example:x"}, []string{"GET", "example:y"}, []string{"GET", "example:z"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range vals {
		s, _ := v.Text()
		fmt.Println(s)
	}
	// Output:
	// example:x-value
	// example:y-value
	// example:z-value
}
