package main

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/respwire/respwire/internal/redistest"
)

// servers are the redis-server processes every run of the test binary
// shares: started once, so runs do not pay for a cluster each.
type servers struct {
	standaloneAddr string
	clusterAddrs   []string
	stop           func() error
}

// startServers starts a standalone server and a 3+3 cluster, unless
// REDIS_ADDR and REDIS_CLUSTER_ADDRS both name existing ones.
func startServers(ctx context.Context) (*servers, error) {
	addr, clusterAddrs := os.Getenv(redistest.EnvAddr), os.Getenv(redistest.EnvClusterAddrs)
	if addr != "" && clusterAddrs != "" {
		return &servers{standaloneAddr: addr, clusterAddrs: strings.Split(clusterAddrs, ","), stop: func() error { return nil }}, nil
	}
	standalone, err := redistest.StartNode(redistest.NodeOptions{})
	if err != nil {
		return nil, err
	}
	cluster, err := redistest.StartCluster(ctx, redistest.ClusterOptions{})
	if err != nil {
		return nil, errors.Join(err, standalone.Stop())
	}
	return &servers{
		standaloneAddr: standalone.Addr,
		clusterAddrs:   cluster.Addrs(),
		stop:           func() error { return errors.Join(cluster.Stop(), standalone.Stop()) },
	}, nil
}

// env tells the test binary's TestMain to use these servers.
func (s *servers) env() []string {
	return []string{
		redistest.EnvAddr + "=" + s.standaloneAddr,
		redistest.EnvClusterAddrs + "=" + strings.Join(s.clusterAddrs, ","),
	}
}
