//go:build !respwire_conn

package bench

import "context"

// respwireStandalone stands in until respwire's conn package lands: a nil constructor
// leaves respwire out of the workloads that need it.
var respwireStandalone func(ctx context.Context, addr string) (kvClient, error)
