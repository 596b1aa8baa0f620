package conn_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
)

// Hooks count commands by name and error, the way a metrics exporter would.
func ExampleHooks() {
	var mu sync.Mutex
	calls := map[string]int{}
	failed := 0
	hooks := &conn.Hooks{
		Command: func(ctx context.Context, e conn.CommandEvent) {
			mu.Lock()
			defer mu.Unlock()
			calls[e.Name]++
			if e.Err != nil {
				failed++
			}
		},
	}
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, &conn.Options{Hooks: hooks})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Do(ctx, "SET", "example:hooks", "1")
	c.Do(ctx, "INCR", "example:hooks")
	c.Do(ctx, "LPUSH", "example:hooks", "x") // WRONGTYPE

	mu.Lock()
	defer mu.Unlock()
	fmt.Println(calls["SET"], calls["INCR"], calls["LPUSH"], failed)
	// Output: 1 1 1 1
}

// A Logger at Debug records the connection's lifecycle, here its Close;
// nothing is logged per command. (The time is left out of the records so
// that the output is the same on every run.)
func Example_logger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "addr" {
				return slog.Attr{}
			}
			return a
		},
	}))
	ctx := context.Background()
	c, err := conn.Dial(ctx, redistest.Server().Addr, &conn.Options{Logger: logger})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Do(ctx, "PING")
	c.Close()
	// Output: level=DEBUG msg="conn: connection closed"
}

// Stats are counters since the Client was made, and gauges of the moment.
func ExampleClient_Stats() {
	ctx := context.Background()
	c, err := conn.NewClient(ctx, redistest.Server().Addr, &conn.Options{IdlePing: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	before := c.Stats()
	c.Do(ctx, "SET", "example:stats", "1")
	c.Do(ctx, "LPUSH", "example:stats", "x") // WRONGTYPE
	c.DoMulti(ctx, []string{"GET", "example:stats"}, []string{"INCR", "example:stats"})
	s := c.Stats()
	fmt.Println("commands:", s.Commands-before.Commands, "errors:", s.Errors-before.Errors)
	fmt.Println("dials:", s.Dials, "redials:", s.Redials, "in flight:", s.InFlight)
	fmt.Println("bytes sent:", s.BytesWritten > before.BytesWritten)
	// Output:
	// commands: 4 errors: 1
	// dials: 1 redials: 0 in flight: 0
	// bytes sent: true
}
