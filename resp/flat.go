package resp

import (
	"bytes"
	"io"
)

// ReadStrings decodes the next frame in place, without allocating, when it
// is an array or a push of 1 to len(scratch) bulk strings (a pub/sub
// message, for one) within the limits of SetMaxBulkLen and SetMaxElements,
// and small enough to fit in the Reader's buffer. It hands take the frame's
// kind and its elements, which borrow the Reader's buffer and scratch: they
// are valid only until take returns, and take must not call r. When take
// accepts the frame (returns true) the frame is consumed and ReadStrings
// reports true; otherwise, and for every other frame, nothing is consumed
// and Read decodes it next.
//
// ReadStrings reads from the underlying reader as much as Read would for the
// same frame, and no more: when nothing is buffered, and while a frame of
// that shape is only partly buffered. The error of such a read is returned
// as Read would return it: io.EOF at a frame boundary, an error wrapping
// ErrProtocol and io.ErrUnexpectedEOF within a frame, any other error as it
// is.
func (r *Reader) ReadStrings(scratch [][]byte, take func(kind Kind, elems [][]byte) bool) (bool, error) {
	if r.br.Buffered() == 0 {
		if _, err := r.br.Peek(1); err != nil {
			return false, err
		}
	}
	for {
		b, _ := r.br.Peek(r.br.Buffered()) // no I/O: only what is buffered
		kind, elems, size := r.parseStrings(b, scratch)
		switch {
		case size > 0:
			if !take(kind, elems) {
				return false, nil
			}
			r.br.Discard(size)
			return true, nil
		case size == 0 || len(b) >= r.br.Size():
			return false, nil // another frame, or one too large: Read's
		}
		// Partly buffered: Read would wait for the rest too.
		if _, err := r.br.Peek(len(b) + 1); err != nil {
			if err == io.EOF {
				err = truncated(kind.String() + " of bulk strings")
			}
			return false, err
		}
	}
}

// parseStrings decodes the frame at the start of b when it is an array or a
// push of 1 to len(scratch) bulk strings within the Reader's limits. It
// returns the frame's kind, its elements (slices of b in scratch) and its
// length in bytes; a size of 0 when b starts with some other frame, or -1
// when b may hold the start of such a frame but not all of it.
func (r *Reader) parseStrings(b []byte, scratch [][]byte) (kind Kind, elems [][]byte, size int) {
	if len(b) == 0 {
		return 0, nil, -1
	}
	kind = Kind(b[0])
	if kind != Array && kind != Push {
		return kind, nil, 0
	}
	n, pos := parseHeader(b)
	switch {
	case pos < 0:
		return kind, nil, pos
	case n < 1 || n > int64(len(scratch)) || n > int64(r.elementLimit()):
		return kind, nil, 0
	}
	elems = scratch[:0]
	for range n {
		if pos == len(b) {
			return kind, nil, -1
		}
		if Kind(b[pos]) != BulkString {
			return kind, nil, 0
		}
		length, next := parseHeader(b[pos:])
		switch {
		case next < 0:
			return kind, nil, next
		case length < 0 || length > r.maxBulk:
			return kind, nil, 0 // a null, or one for Read to refuse
		}
		start := pos + next
		if int64(len(b)-start) < length+2 {
			return kind, nil, -1
		}
		end := start + int(length)
		if b[end] != '\r' || b[end+1] != '\n' {
			return kind, nil, 0 // malformed: Read says how
		}
		elems = append(elems, b[start:end:end])
		pos = end + 2
	}
	return kind, elems, pos
}

// parseHeader decodes the line at the start of b, a type byte and a length:
// it returns the length and the offset past the line's CRLF; an offset of 0
// when the line is malformed, -1 when b holds no whole line yet.
func parseHeader(b []byte) (n int64, next int) {
	end := bytes.IndexByte(b, '\n')
	switch {
	case end < 0:
		if len(b) > maxHeaderLen {
			return 0, 0 // no length is that long: Read says how
		}
		return 0, -1
	case end < 2 || b[end-1] != '\r':
		return 0, 0
	}
	n, ok := parseInt(b[1 : end-1])
	if !ok {
		return 0, 0
	}
	return n, end + 1
}

// maxHeaderLen is the longest line of a type byte and a length that
// parseHeader waits for: "*" and a 64-bit integer with its sign, and CRLF.
const maxHeaderLen = 1 + 20 + 2
