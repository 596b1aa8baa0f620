package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// kvClient is one client under test, reduced to the commands the workloads
// send. Each adapter uses its library the way that library's documentation
// recommends for throughput; the interface only hides the call shape.
type kvClient interface {
	get(ctx context.Context, key string) (string, error)
	set(ctx context.Context, key, value string) error
	// pipeline prepares one pipeline that GETs every key, in whatever form
	// the library lets a caller reuse, and returns the function that sends it
	// and checks every reply. The function is called from one goroutine.
	pipeline(keys []string) func(ctx context.Context) error
	close() error
}

// subscribeFunc subscribes to channel on the server at addr and calls deliver
// once per message received, from one goroutine. The returned Closer stops the
// subscription and waits until deliver is no longer called.
type subscribeFunc func(ctx context.Context, addr, channel string, deliver func(payload string)) (io.Closer, error)

// clientKind is one column of the comparison: a library in one configuration.
// A nil constructor means the workload does not apply to it (it would measure
// the same code path as another kind).
type clientKind struct {
	name       string
	standalone func(ctx context.Context, addr string) (kvClient, error)
	cluster    func(ctx context.Context, addrs []string) (kvClient, error)
	subscribe  subscribeFunc
	// noPipeline: its explicit pipelines run the same code as another kind's.
	noPipeline bool
	// concurrentOnly: its setting only changes how concurrent callers share
	// connections or batches, so on a workload run from one goroutine it would
	// measure the same path as its library's default kind; serial workloads
	// leave it out.
	concurrentOnly bool
}

// clientKinds lists every kind in the order the tables show them: respwire
// first, then its peers, each library's defaults before its variants at the
// settings its own documentation or benchmarks recommend for throughput.
func clientKinds() []clientKind {
	return []clientKind{
		respwireKind(),
		rueidisKind(), rueidisFlushDelayKind(), rueidisMultiplexKind(),
		goredisKind(), goredisAutoPipelineKind(), goredisAutoPipelineTunedKind(),
	}
}

// ready checks that c answers, and closes it if it does not.
func ready(ctx context.Context, c kvClient) (kvClient, error) {
	if err := c.set(ctx, "bench:ready", "1"); err != nil {
		return nil, errors.Join(err, c.close())
	}
	return c, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// checkValue is the check every GET reply in a workload goes through: the
// workloads only read keys they wrote, so anything else is a client bug.
func checkValue(got string, wantLen int) error {
	if len(got) != wantLen {
		return fmt.Errorf("bench: GET returned %d bytes, want %d", len(got), wantLen)
	}
	return nil
}
