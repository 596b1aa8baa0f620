package resp

import (
	"strings"
	"sync"
	"unsafe"
)

// keptChunks is how many chunks a Reader keeps from one long body to the
// next: 4 MiB, the proof of a 16 MiB body.
const keptChunks = 64

// chunks holds the chunks past keptChunks, for the proof of bodies over
// 16 MiB; shared by every Reader, and emptied by the collector when unused.
var chunks = sync.Pool{New: func() any { return new([bodyStep]byte) }}

// chunk returns the i-th of the bodyStep-sized chunks that the proof of a
// long body is read into (chunk 0 also serves ReadBulkTo). The first
// keptChunks stay with the Reader, allocated as a proof first needs them,
// so that reading one long value after another costs neither their
// allocation nor fresh pages for them (which the collector's emptying of a
// pool made the common case: some 20 page faults per 1 MiB body); Trim lets
// them go. Past those, a chunk comes from the shared pool (fromPool), and
// the caller puts it back.
func (r *Reader) chunk(i int) (c *[bodyStep]byte, fromPool bool) {
	if i < len(r.kept) {
		return r.kept[i], false
	}
	if i >= keptChunks {
		return chunks.Get().(*[bodyStep]byte), true
	}
	if r.kept == nil {
		r.kept = make([]*[bodyStep]byte, 0, keptChunks)
	}
	c = new([bodyStep]byte)
	r.kept = append(r.kept, c) // i == len(r.kept): chunks are taken in order
	return c, false
}

// Trim lets go of the chunks the Reader kept from reading long bodies (a
// quarter of the longest body read, up to 4 MiB), so that it holds only its
// buffer, and forgets how long a body the peer has sent whole: the next
// long body needs a proof again. A connection calls it when it calms down
// or idles; a Reader that is dropped needs no call.
func (r *Reader) Trim() { r.kept, r.proven = nil, 0 }

// Retained returns how many bytes of chunks the Reader keeps (see Trim).
func (r *Reader) Retained() int { return len(r.kept) * bodyStep }

// bodyMemory returns memory of its own for a body of n bytes (n > 0), which
// the caller fills whole before anything reads it, and drops on failure.
// Unlike make, it does not zero the memory first: strings.Builder.Grow is
// the standard library's way to such memory, and the slice is over the
// array Grow allocated, which nothing else refers to once the Builder is
// gone. (The byte written makes a string that says where the array starts.)
func bodyMemory(n int) []byte {
	var b strings.Builder
	b.Grow(n)
	b.WriteByte(0)
	return unsafe.Slice(unsafe.StringData(b.String()), n)
}
