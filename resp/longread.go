package resp

import "io"

// readLong reads part of a long body into p: from the buffer while it holds
// bytes, and then straight from the source when the body goes on past p
// (more) or p is a whole chunk (bodyStep bytes or more), so that a buffer
// bigger than the pieces a body comes in (a busy connection's) does not put
// the body through one more copy. The body's end, shorter than a chunk, is
// read through the buffer, which takes what follows it in the same read.
func (r *Reader) readLong(p []byte, more bool) (int, error) {
	if r.br.Buffered() > 0 || !more && len(p) < bodyStep {
		return r.br.Read(p)
	}
	if len(r.carry.rest) > 0 {
		return r.carry.Read(p)
	}
	return r.src.Read(p)
}

// LongestBody returns the length of the longest bulk body (of a bulk
// string, bulk error or verbatim string) read since it last returned, and
// starts again from none: a connection that sizes its buffer to its load
// can tell reads that brought one long value, which fill every read and
// which no buffer holds several of, from reads that brought many short
// replies.
func (r *Reader) LongestBody() int {
	n := r.longest
	r.longest = 0
	return n
}

// readFullLong is io.ReadFull over readLong: it fills p, part of a long body
// that goes on past p when more is set.
func (r *Reader) readFullLong(p []byte, more bool) (int, error) {
	n := 0
	for n < len(p) {
		k, err := r.readLong(p[n:], more)
		n += k
		if err != nil {
			if err == io.EOF && n > 0 && n < len(p) {
				err = io.ErrUnexpectedEOF
			}
			if n == len(p) {
				err = nil
			}
			return n, err
		}
	}
	return n, nil
}
