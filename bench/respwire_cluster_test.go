//go:build respwire_cluster

package bench

import (
	"context"

	"github.com/respwire/respwire/cluster"
)

func respwireCluster(ctx context.Context, addrs []string) (kvClient, error) {
	c, err := cluster.New(ctx, &cluster.Options{Addrs: addrs})
	if err != nil {
		return nil, err
	}
	return ready(ctx, respwireClient{c})
}
