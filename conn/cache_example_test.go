package conn_test

import (
	"context"
	"fmt"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// DoCache reads through the client-side cache: the first call reads from
// the server and caches the reply; later calls are answered locally until
// the server invalidates the key, the ttl passes or the key expires.
func ExampleClient_DoCache() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, nil) // caching is on by default
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.Do(ctx, "SET", "example:greeting", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		v, err := c.DoCache(ctx, time.Minute, "GET", "example:greeting")
		if err != nil {
			fmt.Println(err)
			return
		}
		s, _ := v.Text()
		fmt.Println(s)
	}
	fmt.Println("server reads:", c.CacheStats().Misses)

	// Writes are not cacheable: DoCache refuses them, unsent.
	_, err = c.DoCache(ctx, time.Minute, "SET", "example:greeting", "bye")
	fmt.Println(err)
	// Output:
	// hello
	// hello
	// hello
	// server reads: 1
	// conn: DoCache: SET is not cacheable: it is not read-only
}

// DoMultiCache answers what it has cached and sends every miss in one
// write, answering in order.
func ExampleClient_DoMultiCache() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, &conn.Options{CacheMaxBytes: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.Do(ctx, "MSET", "example:a", "1", "example:b", "2"); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Do(ctx, "HSET", "example:h", "field", "value"); err != nil {
		fmt.Println(err)
		return
	}
	vals, err := c.DoMultiCache(ctx, time.Minute,
		[]string{"GET", "example:a"},
		[]string{"MGET", "example:a", "example:b"},
		[]string{"HGETALL", "example:h"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range vals {
		fmt.Println(v)
	}
	// Output:
	// "1"
	// 1) "1"
	// 2) "2"
	// 1# "field" => "value"
}
