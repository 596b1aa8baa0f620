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

func TestRequestQueueRetainFrom(t *testing.T) {
	var q requestQueue
	reqs := make([]*request, 40)
	for i := range reqs {
		reqs[i] = &request{start: i}
	}
	// Start near the end of the ring so the pass crosses the wrap.
	for range 10 {
		q.push(reqs[0])
		q.pop()
	}
	for _, r := range reqs[:12] {
		q.push(r)
	}
	var seen []int
	q.retainFrom(3, func(r *request) bool {
		seen = append(seen, r.start)
		return r.start%2 == 0 || r.start == 11
	})
	assert.Equal(t, []int{3, 4, 5, 6, 7, 8, 9, 10, 11}, seen, "each from the 3rd on, once, in order")
	assert.Equal(t, 8, q.len())
	q.push(reqs[12]) // the freed places are reused
	var got []int
	for _, r := range q.drain() {
		got = append(got, r.start)
	}
	assert.Equal(t, []int{0, 1, 2, 4, 6, 8, 10, 11, 12}, got)

	q.push(reqs[0])
	q.retainFrom(0, func(*request) bool { return false })
	assert.Zero(t, q.len())
	q.retainFrom(0, func(*request) bool { t.Fatal("called on an empty queue"); return false })
}
