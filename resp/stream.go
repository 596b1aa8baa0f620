package resp

import (
	"io"
)

// WriteError is how ReadBulkTo reports that its writer failed: Err is the
// writer's error (io.ErrShortWrite for a short write without one). The rest
// of the body was read and dropped, so the Reader is in step.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "resp: writing a bulk string: " + e.Err.Error() }

func (e *WriteError) Unwrap() error { return e.Err }

// ReadBulkTo reads the next frame as Read does, except a bulk string of
// declared length, whose body it does not keep: it writes the body to w as
// the bytes arrive, and returns how many bytes w took, with the zero Value.
// Nothing is allocated for the body and nothing of it is copied but by the
// socket read: w is given slices of the Reader's buffer, or of a 64 KiB
// chunk (the Reader's, see Trim) read straight from the underlying reader,
// each valid only during the Write call (as io.Writer requires).
//
// Any other frame (a null, an error reply, a push frame, an aggregate, a
// streamed string ($?), a bulk string after attributes) is returned as Read
// returns it, with n = -1.
//
// When w is an io.ReaderFrom, the body past the bytes already buffered goes
// to its ReadFrom instead, from a reader that ends with the body (and whose
// Len says how much is left), so that w reads it straight from the
// underlying reader into memory of its own: no chunk in between. An error
// of that reader breaks the stream as below; ReadFrom's own error, or its
// return before the body's end, is w's failure.
//
// The body is not held in memory, so SetMaxBulkLen does not apply to it;
// only a length past both it and DefaultMaxBulkLen breaks the stream, as for
// Read. When w fails, nothing more is written to it: the rest of the body is
// read and dropped, and the error is a *WriteError, the Reader in step. An
// error of the underlying reader breaks the stream, as for Read; n then
// counts what w took before.
func (r *Reader) ReadBulkTo(w io.Writer) (n int64, v Value, err error) {
	b, err := r.br.Peek(1)
	if err != nil || Kind(b[0]) != BulkString {
		v, err = r.Read()
		return -1, v, err
	}
	r.startFrame()
	r.frameKind = BulkString
	line, err := r.readLine()
	if err != nil {
		return -1, Value{}, err
	}
	size, ok := parseInt(line[1:])
	if !ok || size < 0 {
		// Null, a streamed string, or malformed: as Read has it.
		v, err = r.endFrame(r.readBulk(BulkString, line[1:]))
		return -1, v, err
	}
	if size > max(r.maxBulk, DefaultMaxBulkLen) {
		return -1, Value{}, r.bulkTooLarge(BulkString, size)
	}
	r.longest = max(r.longest, int(size))
	return r.copyBody(w, size)
}

// bodySource is what a ReaderFrom reads a body from: the Reader, as a long
// body's source (see readLong), up to the body's end. It keeps the error of
// the underlying reader, if one struck, so that it can be told from the
// writer's.
type bodySource struct {
	r    *Reader
	left int64
	err  error
}

func (s *bodySource) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.readLong(p, s.left > int64(len(p)))
	s.left -= int64(n)
	if err != nil {
		s.err = err
	}
	return n, err
}

// Len is how many bytes of the body are left to read.
func (s *bodySource) Len() int { return int(s.left) }

// copyBody writes the next size bytes to w, reads the CRLF after them, and
// returns how many bytes w took (see ReadBulkTo).
func (r *Reader) copyBody(w io.Writer, size int64) (int64, Value, error) {
	var written int64
	var werr error
	put := func(p []byte) {
		if werr != nil {
			return
		}
		k, err := w.Write(p)
		written += int64(k)
		if err == nil && k < len(p) {
			err = io.ErrShortWrite
		}
		werr = err
	}
	left := size
	if k := min(int64(r.br.Buffered()), left); k > 0 {
		b, _ := r.br.Peek(int(k)) // buffered: no I/O
		put(b)
		r.br.Discard(int(k))
		left -= k
	}
	if rf, ok := w.(io.ReaderFrom); ok && werr == nil && left > 0 {
		r.body = bodySource{r: r, left: left}
		k, err := rf.ReadFrom(&r.body)
		written += k
		left = r.body.left
		if r.body.err != nil {
			return written, Value{}, r.bodyError(r.body.err, BulkString)
		}
		if err == nil && left > 0 {
			err = io.ErrShortWrite
		}
		werr = err
	}
	if left > 0 {
		// Read through a chunk: for w, or to drop what w did not take.
		c, _ := r.chunk(0) // never from the pool
		for left > 0 {
			// A whole chunk is read into straight from the source
			// once the buffer is empty (see readLong); the last,
			// shorter one through the buffer.
			k, err := r.readLong(c[:min(left, bodyStep)], left > bodyStep)
			put(c[:k])
			left -= int64(k)
			if err != nil {
				return written, Value{}, r.bodyError(err, BulkString)
			}
		}
	}
	if err := r.readCRLF(int(size), BulkString); err != nil {
		return written, Value{}, err
	}
	if werr != nil {
		return written, Value{}, &WriteError{Err: werr}
	}
	return written, Value{}, nil
}
