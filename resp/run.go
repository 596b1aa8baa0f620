package resp

import (
	"bytes"
	"unsafe"
)

const (
	// RunSmallValue is the longest bulk string ReadRun copies into a
	// shared slab; longer ones get memory of their own, as Read gives them.
	RunSmallValue = 128
	// runSlabSize bounds a slab: a value kept from a run keeps at most
	// this many bytes of memory alive, its neighbours' included.
	runSlabSize = 4 << 10
	// runMaxArray is the most elements of an array ReadRun decodes (an
	// MGET of a few keys, one slot's share of a split one).
	runMaxArray = 16
	// runElemSlab is the most array elements one run read with share
	// decodes: they share one allocation (see settleElems), of at most
	// 64 Values, 4 KiB, as a string slab.
	runElemSlab = runSlabSize / int(unsafe.Sizeof(Value{}))
)

// ReadRun decodes into dst the replies at the front of the buffer that are
// buffered whole and are bulk strings, simple strings, integers or nulls
// (what a pipeline of GETs, SETs and INCRs brings back), or arrays of up to
// 16 of those (MGETs of a few keys), up to len(dst), and returns how many it
// decoded. It does no I/O. It stops at the first frame of
// any other kind, one that is only partly buffered, one over SetMaxBulkLen,
// and anything malformed, and leaves that frame for Read, which consumes
// nothing twice: the values ReadRun returned are consumed, the rest is not.
//
// The values own their memory as Read's do. With share, bulk strings of up
// to 128 bytes share it: they are copied into slabs of at most 4 KiB, each
// sized from the bytes buffered, so a run of n small values costs about
// n/4096 of their bytes in allocations instead of n, a kept value keeps at
// most 4 KiB alive, and a slab is never larger than the bytes the peer sent
// for it; the slab's room left goes on to the next run read with share.
// With share too, the elements of the run's arrays, 64 at most (the run
// stops before an array that would go beyond), share one allocation of
// exactly their number: a run of 33 one-key MGETs allocates once for its
// elements, not 33 times.
// Without share each string and array gets memory of its own, and the slab
// is dropped: share suits the replies of one caller, who gets them together.
func (r *Reader) ReadRun(dst []Value, share bool) int {
	if !share {
		r.slab = nil
	}
	r.share = share
	b, _ := r.br.Peek(r.br.Buffered()) // no I/O: only what is buffered
	pos, n := 0, 0
	for n < len(dst) {
		size := r.parseRunFrame(b[pos:], &dst[n])
		if size == 0 {
			break
		}
		n++
		pos += size
	}
	r.br.Discard(pos)
	if len(r.runElems) > 0 {
		r.settleElems(dst[:n])
	}
	return n
}

// settleElems moves the elements of the arrays of vals, a run read with
// share, from runElems into one allocation of their number, and points
// each array at its own, in the order they were decoded. Each array's
// slice is capped at its length: appending to one never writes on the next.
func (r *Reader) settleElems(vals []Value) {
	slab := make([]Value, len(r.runElems))
	copy(slab, r.runElems)
	at := 0
	for i := range vals {
		v := &vals[i]
		if v.kind != Array || len(v.elems) == 0 {
			continue
		}
		n := len(v.elems)
		v.elems = slab[at : at+n : at+n]
		at += n
	}
	clear(r.runElems) // keep no value alive here
	r.runElems = r.runElems[:0]
}

// parseRunFrame decodes the frame at the start of b into v for ReadRun, in
// place, and returns its length in bytes; or 0, v untouched, when ReadRun
// must stop there.
func (r *Reader) parseRunFrame(b []byte, v *Value) int {
	if len(b) < 3 || Kind(b[0]) != Array {
		return r.parseRunScalar(b, v)
	}
	end := bytes.IndexByte(b, '\n')
	if end < 2 || b[end-1] != '\r' {
		return 0
	}
	n, ok := parseInt(b[1 : end-1])
	switch {
	case !ok:
		return 0
	case n == -1:
		*v = Value{kind: Null, shape: Array}
		return end + 1
	case n == 0:
		*v = Value{kind: Array}
		return end + 1
	case n < 0 || n > runMaxArray || n > int64(r.elementLimit()):
		return 0
	}
	if r.share && len(r.runElems)+int(n) > runElemSlab {
		return 0 // for the next run: this one's elements are as many as share one allocation
	}
	// The elements are decoded in place in runElems, whose room beyond
	// its length is always zero: with share they stay there until
	// settleElems gives them their allocation, without they are copied
	// out to one of their own.
	if r.runElems == nil {
		r.runElems = make([]Value, 0, runElemSlab)
	}
	start := len(r.runElems)
	elems := r.runElems[start : start+int(n)]
	pos := end + 1
	for i := range elems {
		size := r.parseRunScalar(b[pos:], &elems[i])
		if size == 0 {
			clear(elems[:i])
			return 0
		}
		pos += size
	}
	if r.share {
		r.runElems = r.runElems[:start+int(n)]
		*v = Value{kind: Array, elems: elems}
		return pos
	}
	*v = Value{kind: Array, elems: append([]Value(nil), elems...)}
	clear(elems)
	return pos
}

// parseRunScalar is parseRunFrame for the frames that are not arrays, and
// for the elements of an array.
func (r *Reader) parseRunScalar(b []byte, v *Value) int {
	if len(b) < 3 {
		return 0
	}
	if Kind(b[0]) == BulkString {
		if n, end := shortLength(b); end > 0 {
			return r.runBulk(b, n, end, v)
		}
	}
	end := bytes.IndexByte(b, '\n')
	if end < 2 || b[end-1] != '\r' {
		return 0
	}
	line := b[1 : end-1]
	switch Kind(b[0]) {
	case BulkString:
		n, ok := parseInt(line)
		if n == -1 && ok {
			*v = Value{kind: Null, shape: BulkString}
			return end + 1
		}
		if !ok || n < 0 {
			return 0
		}
		return r.runBulk(b, n, end, v)
	case SimpleString:
		if bytes.IndexByte(line, '\r') >= 0 {
			return 0
		}
		*v = Value{kind: SimpleString, str: simpleText(line)}
	case Integer:
		n, ok := parseInt(line)
		if !ok {
			return 0
		}
		*v = Value{kind: Integer, num: n}
	case Null:
		if len(line) != 0 {
			return 0
		}
		*v = Value{kind: Null}
	default:
		return 0
	}
	return end + 1
}

// shortLength reads the length of the header at the start of b when it has
// one or two digits ("$16\r\n", what most values have), and returns it with
// the index of the header's LF, as the general path would find them; end
// is 0 for any other header, which that path decodes or refuses.
func shortLength(b []byte) (n int64, end int) {
	if len(b) < 5 {
		return 0, 0
	}
	d1 := b[1] - '0'
	if d1 > 9 {
		return 0, 0
	}
	if b[2] == '\r' && b[3] == '\n' {
		return int64(d1), 3
	}
	if d2 := b[2] - '0'; d2 <= 9 && b[3] == '\r' && b[4] == '\n' {
		return int64(d1)*10 + int64(d2), 4
	}
	return 0, 0
}

// runBulk decodes into v the bulk string of n bytes whose header ends with
// the LF at b[end], for parseRunScalar, and returns the frame's length; 0,
// v untouched, when it is over the limit, not buffered whole, or not ended
// by CRLF.
func (r *Reader) runBulk(b []byte, n int64, end int, v *Value) int {
	if n > r.maxBulk || int64(len(b)-end-1) < n+2 {
		return 0
	}
	body := b[end+1:]
	if body[n] != '\r' || body[n+1] != '\n' {
		return 0
	}
	size := end + 1 + int(n) + 2
	r.longest = max(r.longest, int(n))
	*v = Value{kind: BulkString, str: r.runString(body[:n], len(b)-size)}
	return size
}

// runString copies body out of the buffer for ReadRun: a small one into the
// Reader's slab, after which rest more bytes are buffered. A new slab holds
// body and room for the values likely to follow, estimated from rest, within
// runSlabSize; bytes once handed out in a slab are never written again.
func (r *Reader) runString(body []byte, rest int) string {
	n := len(body)
	if n == 0 {
		return ""
	}
	if n > RunSmallValue || !r.share {
		return string(body)
	}
	if cap(r.slab)-len(r.slab) < n {
		r.slab = make([]byte, 0, min(runSlabSize, n+rest))
	}
	start := len(r.slab)
	r.slab = append(r.slab, body...)
	return unsafe.String(&r.slab[start], n)
}
