package conn

// requestQueue is the FIFO of requests in the order their commands went (or
// will go) on the wire: a ring buffer that grows by doubling, so a steady
// stream of pushes and pops allocates nothing.
type requestQueue struct {
	ring []*request // len is a power of two, or 0
	head int        // index of the oldest request
	n    int        // number of requests held
}

func (q *requestQueue) len() int { return q.n }

// at returns the i-th request from the head.
func (q *requestQueue) at(i int) *request { return q.ring[(q.head+i)&(len(q.ring)-1)] }

func (q *requestQueue) push(r *request) {
	if q.n == len(q.ring) {
		q.grow()
	}
	q.ring[(q.head+q.n)&(len(q.ring)-1)] = r
	q.n++
}

func (q *requestQueue) grow() {
	size := 2 * len(q.ring)
	if size == 0 {
		size = 16
	}
	ring := make([]*request, size)
	for i := range q.n {
		ring[i] = q.at(i)
	}
	q.ring, q.head = ring, 0
}

// pop removes and returns the head; the queue must not be empty.
func (q *requestQueue) pop() *request {
	r := q.ring[q.head]
	q.ring[q.head] = nil
	q.head = (q.head + 1) & (len(q.ring) - 1)
	q.n--
	return r
}

// retainFrom keeps, from the i-th request on, those for which keep reports
// true, in order, and removes the others; one pass, which calls keep once
// for each request from i in order.
func (q *requestQueue) retainFrom(i int, keep func(*request) bool) {
	n := i
	for j := i; j < q.n; j++ {
		r := q.at(j)
		if keep(r) {
			q.ring[(q.head+n)&(len(q.ring)-1)] = r
			n++
		}
	}
	for j := n; j < q.n; j++ {
		q.ring[(q.head+j)&(len(q.ring)-1)] = nil
	}
	q.n = n
}

// drain removes every request and returns them in order.
func (q *requestQueue) drain() []*request {
	out := make([]*request, 0, q.n)
	for q.n > 0 {
		out = append(out, q.pop())
	}
	return out
}
