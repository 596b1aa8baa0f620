package conn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// pendingFixture is a pendingReplies with its write buffer, as Conn keeps
// them, for the unit tests.
type pendingFixture struct {
	p   pendingReplies
	buf []byte
	c   *Conn // only for getRequest's pool
}

func newPendingFixture() *pendingFixture { return &pendingFixture{c: &Conn{}} }

// add appends one command and queues its request.
func (f *pendingFixture) add(args ...string) *request {
	r := f.c.getRequest(shapeOne)
	r.start = len(f.buf)
	f.buf = resp.AppendCommand(f.buf, args...)
	r.end = len(f.buf)
	f.p.add(r)
	return r
}

func (f *pendingFixture) withdraw(t *testing.T, r *request) {
	require.True(t, r.abandon())
	f.p.withdraw(r)
}

func TestPendingRepliesOrder(t *testing.T) {
	f := newPendingFixture()
	assert.Nil(t, f.p.oldest(), "nothing written: no reply is due")
	a, b := f.add("GET", "a"), f.add("GET", "b")
	assert.Equal(t, 0, f.p.written())
	assert.Equal(t, 2, f.p.unsent())
	assert.Nil(t, f.p.oldest(), "an unwritten command's reply is not due")

	f.p.markWritten(7)
	assert.Equal(t, 2, f.p.written())
	assert.True(t, a.written && b.written)
	assert.Equal(t, uint64(7), a.sent)
	c := f.add("GET", "c") // queued behind the written ones
	assert.Equal(t, 1, f.p.unsent())

	assert.Same(t, a, f.p.oldest())
	f.p.answered()
	assert.Same(t, b, f.p.oldest())
	f.p.answered()
	assert.Nil(t, f.p.oldest(), "c is not written yet")
	f.p.markWritten(9)
	assert.Same(t, c, f.p.oldest())
	assert.Equal(t, uint64(9), c.sent)
}

// TestPendingRepliesDropWithdrawn: withdrawn commands leave the queue and
// the buffer in one pass; the others keep their order and their bytes.
func TestPendingRepliesDropWithdrawn(t *testing.T) {
	f := newPendingFixture()
	written := f.add("GET", "w")
	f.p.markWritten(1)
	f.buf = f.buf[:0] // taken for writing
	keep1, cut1, keep2, cut2, cut3 := f.add("SET", "k1", "v"), f.add("GET", "x"), f.add("GET", "k2"), f.add("GET", "y"), f.add("GET", "z")
	f.withdraw(t, cut1)
	f.withdraw(t, cut2)
	f.withdraw(t, cut3)
	assert.Equal(t, 2, f.p.unsent())
	assert.True(t, f.p.worthDropping(f.buf), "three of five commands withdrawn")

	f.buf = f.p.dropWithdrawn(f.buf)
	assert.Equal(t, string(resp.AppendCommand(resp.AppendCommand(nil, "SET", "k1", "v"), "GET", "k2")), string(f.buf))
	assert.Equal(t, 2, f.p.unsent())
	assert.Equal(t, 3, f.p.len(), "the written one and the two kept")
	assert.Equal(t, string(f.buf[keep2.start:keep2.end]), string(resp.AppendCommand(nil, "GET", "k2")))
	assert.Zero(t, keep1.start)
	assert.False(t, f.p.worthDropping(f.buf))
	assert.Equal(t, string(f.buf), string(f.p.dropWithdrawn(f.buf)), "nothing withdrawn: nothing moves")

	f.p.markWritten(2)
	reqs, n := f.p.drain()
	assert.Equal(t, []*request{written, keep1, keep2}, reqs)
	assert.Equal(t, 3, n)
	assert.Zero(t, f.p.len())
}

func TestPendingRepliesDrainCountsWritten(t *testing.T) {
	f := newPendingFixture()
	f.add("GET", "a")
	f.p.markWritten(1)
	f.add("GET", "b")
	cut := f.add("GET", "c")
	f.withdraw(t, cut)
	reqs, written := f.p.drain()
	assert.Len(t, reqs, 3, "withdrawn ones too: the teardown answers (and recycles) them")
	assert.Equal(t, 1, written)
	assert.Zero(t, f.p.unsent())
	assert.False(t, f.p.worthDropping(nil))
}
