// Command redisup starts the servers the tests use, a standalone server and
// a 3-master, 3-replica cluster, prints them as the environment variables
// internal/redistest reads, and keeps them until interrupted. Tests run with
// those variables set use these servers instead of starting their own:
//
//	go run ./internal/cmd/redisup   # prints REDIS_ADDR=... REDIS_CLUSTER_ADDRS=...
//	env REDIS_ADDR=... REDIS_CLUSTER_ADDRS=... go test ./...
//
// Tests that kill or pause nodes then get redistest.ErrExternal.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/respwire/respwire/internal/redistest"
)

func main() {
	err := run()
	if stopErr := redistest.Shutdown(); err == nil {
		err = stopErr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisup:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	server, err := redistest.StartNode(redistest.NodeOptions{})
	if err != nil {
		return err
	}
	cluster, err := redistest.StartCluster(ctx, redistest.ClusterOptions{})
	if err != nil {
		return err
	}
	fmt.Printf("%s=%s %s=%s\n", redistest.EnvAddr, server.Addr,
		redistest.EnvClusterAddrs, strings.Join(cluster.Addrs(), ","))
	fmt.Fprintf(os.Stderr, "redisup: ready in %v; Ctrl-C stops the servers\n", time.Since(start).Round(time.Millisecond))
	<-ctx.Done()
	return nil
}
