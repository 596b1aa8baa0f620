package conn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// pendingFixture is a pendingReplies with its write buffer, as Conn keeps
// them, for the unit tests.
type pendingFixture struct {
	p    pendingReplies
	buf  []byte
	held heldArgs
	c    *Conn // for getRequest's pool and appendCommand
}

func newPendingFixture() *pendingFixture { return &pendingFixture{c: &Conn{plain: true}} }

// add appends one command, as Conn.appendCommand does on a socket that
// writes vectors for a patient caller (arguments of heldMin bytes or more
// are held), and queues its request.
func (f *pendingFixture) add(args ...string) *request {
	r := f.c.getRequest(shapeOne)
	r.start, r.patient = len(f.buf), true
	f.c.wbuf, f.c.held = f.buf, f.held
	f.c.appendCommand(r, args)
	f.buf, f.held = f.c.wbuf, f.c.held
	r.end = len(f.buf)
	f.p.add(r)
	return r
}

// wire is what a write of f's buffer sends: its bytes with the held
// arguments in their places.
func (f *pendingFixture) wire() string {
	var out []byte
	at := 0
	for _, h := range f.held.args {
		out = append(out, f.buf[at:h.at]...)
		out = append(out, h.s...)
		at = h.at
	}
	return string(append(out, f.buf[at:]...))
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
	assert.True(t, f.p.worthDropping(len(f.buf)), "three of five commands withdrawn")

	f.buf = f.p.dropWithdrawn(f.buf, &f.held)
	assert.Equal(t, string(resp.AppendCommand(resp.AppendCommand(nil, "SET", "k1", "v"), "GET", "k2")), string(f.buf))
	assert.Equal(t, 2, f.p.unsent())
	assert.Equal(t, 3, f.p.len(), "the written one and the two kept")
	assert.Equal(t, string(f.buf[keep2.start:keep2.end]), string(resp.AppendCommand(nil, "GET", "k2")))
	assert.Zero(t, keep1.start)
	assert.False(t, f.p.worthDropping(len(f.buf)))
	assert.Equal(t, string(f.buf), string(f.p.dropWithdrawn(f.buf, &f.held)), "nothing withdrawn: nothing moves")

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
	assert.False(t, f.p.worthDropping(0))
}

// TestPendingRepliesDropWithdrawnHeld: the arguments held out of the buffer
// leave with their withdrawn commands, and the kept ones follow their
// commands' bytes, so the wire carries exactly the kept commands.
func TestPendingRepliesDropWithdrawnHeld(t *testing.T) {
	big := func(c byte) string { return strings.Repeat(string(c), heldMin+int(c)) }
	f := newPendingFixture()
	cut1 := f.add("SET", "a", big('a'))
	keep1 := f.add("GET", "b")
	cut2 := f.add("MSET", "c", big('c'), "d", big('d'))
	keep2 := f.add("SET", "e", big('e'))
	cut3 := f.add("GET", "f")
	keep3 := f.add("MSET", "g", big('g'), "h", "small", "i", big('i'))
	require.Len(t, f.held.args, 6, "every argument of heldMin bytes or more")
	assert.Equal(t, 2, cut2.held)
	assert.Equal(t, 2*heldMin+int('c')+int('d'), cut2.heldBytes)
	cutBytes := 0
	for _, r := range []*request{cut1, cut2, cut3} {
		f.withdraw(t, r)
		cutBytes += r.end - r.start + r.heldBytes
	}
	assert.Equal(t, cutBytes, f.p.cutBytes, "held arguments count as withdrawn bytes")
	assert.True(t, f.p.worthDropping(2*cutBytes))
	assert.False(t, f.p.worthDropping(2*cutBytes+1))

	f.buf = f.p.dropWithdrawn(f.buf, &f.held)
	var want []byte
	want = resp.AppendCommand(want, "GET", "b")
	want = resp.AppendCommand(want, "SET", "e", big('e'))
	want = resp.AppendCommand(want, "MSET", "g", big('g'), "h", "small", "i", big('i'))
	assert.Equal(t, string(want), f.wire())
	assert.Len(t, f.held.args, 3)
	assert.Equal(t, 3*heldMin+int('e')+int('g')+int('i'), f.held.bytes)
	assert.Equal(t, 3, f.p.unsent())
	assert.Zero(t, keep1.start)
	assert.Equal(t, keep2.end, keep3.start)
	assert.Equal(t, len(f.buf), keep3.end)
	for _, h := range f.held.args[len(f.held.args):cap(f.held.args)] {
		assert.Empty(t, h.s, "a dropped argument's string is let go")
	}
}
