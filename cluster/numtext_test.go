package cluster

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/respwire/respwire/conn"
)

// TestNumberArgTextStaysValid: number text handed out from the slabs is
// never overwritten, by later numbers of the same goroutine or of others,
// also after the slab filled up and was replaced.
func TestNumberArgTextStaysValid(t *testing.T) {
	const goroutines, each = 4, 3000 // several slabs' worth
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			ints, floats := make([]string, each), make([]string, each)
			for i := range each {
				cmd := conn.Cmd("SET", "k").Int(int64(g*each+i) * -1_000_000_007).Float(float64(i) + 0.5)
				ints[i], floats[i] = numberArg(&cmd, 2), numberArg(&cmd, 3)
			}
			for i := range each {
				if !assert.Equal(t, strconv.FormatInt(int64(g*each+i)*-1_000_000_007, 10), ints[i], "goroutine %d, number %d", g, i) ||
					!assert.Equal(t, strconv.FormatFloat(float64(i)+0.5, 'g', -1, 64), floats[i], "goroutine %d, number %d", g, i) {
					return
				}
			}
		})
	}
	wg.Wait()
}
