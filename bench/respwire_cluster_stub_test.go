//go:build !respwire_cluster

package bench

import "context"

// respwireCluster stands in until respwire's cluster package lands: a nil constructor
// leaves respwire out of the workloads that need it.
var respwireCluster func(ctx context.Context, addrs []string) (kvClient, error)
