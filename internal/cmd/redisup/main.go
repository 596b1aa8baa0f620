// Command redisup starts the servers the tests use, a standalone server and
// a 3-master, 3-replica cluster, prints them as environment variables and
// keeps them until interrupted. Running the tests with those variables set
// spares each test package its own servers:
//
//	go run ./internal/cmd/redisup          # prints REDIS_ADDR=... REDIS_CLUSTER_ADDRS=...
//	REDIS_ADDR=... REDIS_CLUSTER_ADDRS=... go test ./...
//
// With -tls the servers speak only TLS, and the harness CA is written to the
// file -ca names.
package main

import (
	"context"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/respwire/respwire/internal/redistest"
)

func main() {
	useTLS := flag.Bool("tls", false, "serve TLS only")
	caFile := flag.String("ca", "redistest-ca.pem", "with -tls: where to write the CA certificate")
	flag.Parse()
	err := run(*useTLS, *caFile)
	if stopErr := redistest.Shutdown(); err == nil {
		err = stopErr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisup:", err)
		os.Exit(1)
	}
}

func run(useTLS bool, caFile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	server, err := redistest.StartNode(redistest.NodeOptions{TLS: useTLS})
	if err != nil {
		return err
	}
	cluster, err := redistest.StartCluster(ctx, redistest.ClusterOptions{TLS: useTLS})
	if err != nil {
		return err
	}
	if useTLS {
		if err := writeCA(caFile); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "redisup: TLS only; CA certificate in %s, server name %s\n", caFile, redistest.TLSServerName)
	}
	fmt.Printf("%s=%s %s=%s\n", redistest.EnvAddr, server.Addr,
		redistest.EnvClusterAddrs, strings.Join(cluster.Addrs(), ","))
	fmt.Fprintf(os.Stderr, "redisup: ready in %v; Ctrl-C stops the servers\n", time.Since(start).Round(time.Millisecond))
	<-ctx.Done()
	return nil
}

func writeCA(path string) error {
	cert, err := redistest.CACertificate()
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}
