package conn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestQueue(t *testing.T) {
	var q requestQueue
	reqs := make([]*request, 100)
	for i := range reqs {
		reqs[i] = &request{start: i}
	}
	// Wrap around the ring many times, growing it on the way.
	next, popped := 0, 0
	for round := range 50 {
		for range round % 7 {
			q.push(reqs[next%len(reqs)])
			next++
		}
		for range round % 5 {
			if q.len() == 0 {
				break
			}
			assert.Same(t, reqs[popped%len(reqs)], q.pop())
			popped++
		}
		require.Equal(t, next-popped, q.len())
	}
	for q.len() > 0 {
		assert.Same(t, reqs[popped%len(reqs)], q.pop())
		popped++
	}
	assert.Equal(t, next, popped)
}

func TestRequestQueueRemove(t *testing.T) {
	var q requestQueue
	reqs := make([]*request, 40)
	for i := range reqs {
		reqs[i] = &request{start: i}
	}
	// Start near the end of the ring so removal crosses the wrap.
	for range 10 {
		q.push(reqs[0])
		q.pop()
	}
	for _, r := range reqs[:12] {
		q.push(r)
	}
	q.remove(11) // the tail
	q.remove(5)  // the middle
	q.remove(0)  // the head
	var got []int
	for _, r := range q.drain() {
		got = append(got, r.start)
	}
	assert.Equal(t, []int{1, 2, 3, 4, 6, 7, 8, 9, 10}, got)
	assert.Zero(t, q.len())
}
