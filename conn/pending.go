package conn

// pendingReplies is the order of a Conn's requests, the one rule of the
// pipeline in one place: requests are answered in the order their commands
// go on the wire. It holds, oldest first, the requests whose commands were
// written and wait for replies, then those whose commands are still in the
// Conn's write buffer (each knows its bytes there, start to end), some of
// them withdrawn by callers that left. Every method runs with Conn.mu held.
type pendingReplies struct {
	q         requestQueue
	unwritten int // the newest unwritten requests in q
	withdrawn int // of those, how many their callers withdrew
	cutBytes  int // their bytes in the write buffer, held arguments included
}

// add queues r, whose command bytes were just appended to the buffer.
func (p *pendingReplies) add(r *request) {
	p.q.push(r)
	p.unwritten++
}

// len is the number of requests held, withdrawn ones included.
func (p *pendingReplies) len() int { return p.q.len() }

// written is the number of requests whose commands were written.
func (p *pendingReplies) written() int { return p.q.len() - p.unwritten }

// unsent is the number of requests whose commands wait in the buffer and
// are still wanted.
func (p *pendingReplies) unsent() int { return p.unwritten - p.withdrawn }

// oldest returns the oldest written request, which the next reply answers,
// or nil when no written request waits.
func (p *pendingReplies) oldest() *request {
	if p.written() == 0 {
		return nil
	}
	return p.q.at(0)
}

// answered removes the oldest written request, which its last reply just
// completed, and marks it answering: from then on its answer is on its way,
// and its caller may no longer withdraw it (see Conn.withdraw).
func (p *pendingReplies) answered() {
	p.q.at(0).answering = true
	p.q.pop()
}

// markWritten makes every unwritten request written, stamped with sent (the
// socket reads done before its bytes reach the socket). The withdrawn ones
// must have been dropped first (see dropWithdrawn).
func (p *pendingReplies) markWritten(sent uint64) {
	for i := p.written(); i < p.q.len(); i++ {
		r := p.q.at(i)
		r.sent, r.written = sent, true
	}
	p.unwritten = 0
}

// withdraw records that the caller of r, whose command is still in the
// buffer, left: r stays in place until dropWithdrawn, in constant time.
func (p *pendingReplies) withdraw(r *request) {
	p.withdrawn++
	p.cutBytes += r.end - r.start + r.heldBytes
}

// dropWithdrawn cuts the withdrawn requests out of the queue, their bytes
// out of buf, the write buffer, and their arguments out of held, buf's held
// arguments, and returns what is left of buf: one pass that moves each
// remaining command's bytes once, so withdrawing n commands costs O(n) in
// all. The dropped requests are recycled.
func (p *pendingReplies) dropWithdrawn(buf []byte, held *heldArgs) []byte {
	if p.withdrawn == 0 {
		return buf
	}
	first := p.written()
	kept := 0     // bytes kept at the front of buf
	next := 0     // the next request's first argument in held.args
	keptArgs := 0 // held arguments kept at the front of held.args
	held.bytes = 0
	p.q.retainFrom(first, func(r *request) bool {
		own := held.args[next : next+r.held]
		next += r.held
		if r.state.Load() == requestAbandoned {
			recycle(r) // its caller has left, and the reader never saw it
			return false
		}
		for _, h := range own {
			h.at += kept - r.start
			held.args[keptArgs] = h
			held.bytes += len(h.s)
			keptArgs++
		}
		n := copy(buf[kept:], buf[r.start:r.end])
		r.start, r.end = kept, kept+n
		kept += n
		return true
	})
	clear(held.args[keptArgs:]) // the dropped ones' strings may go
	held.args = held.args[:keptArgs]
	p.unwritten = p.q.len() - first
	p.withdrawn, p.cutBytes = 0, 0
	return buf[:kept]
}

// worthDropping reports whether withdrawn commands are at least half of
// the n bytes held for writing (the write buffer and its held arguments):
// dropping them then frees enough to pay for the pass.
func (p *pendingReplies) worthDropping(n int) bool {
	return p.withdrawn > 0 && 2*p.cutBytes >= n
}

// drain empties the queue for a teardown and returns every request, oldest
// first, with how many of them were written.
func (p *pendingReplies) drain() (reqs []*request, written int) {
	written = p.written()
	reqs = p.q.drain()
	p.unwritten, p.withdrawn, p.cutBytes = 0, 0, 0
	return reqs, written
}
