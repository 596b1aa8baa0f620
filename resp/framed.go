package resp

import (
	"bufio"
	"bytes"
)

// BufferedFrame reports, without I/O and without consuming or decoding
// anything, how much of the next frame the buffer holds: the frame's length
// when it lies whole in the buffer, so that Read decodes it without reading
// the source; 0 when its end is not buffered yet but will fit once more
// bytes arrive (see Fill); -1 when the buffer cannot tell or cannot hold it:
// a streamed string or aggregate, a frame longer than the buffer, a line or
// a length that is not well formed (Read says what is wrong with it).
//
// It walks the frame's headers once, skipping bodies by their lengths, so
// its work is bounded by the bytes buffered.
func (r *Reader) BufferedFrame() int {
	b, _ := r.br.Peek(r.br.Buffered()) // no I/O: only what is buffered
	size := int64(r.br.Size())
	pos, owed := 0, 1 // owed: values still to walk, the first one included
	for owed > 0 {
		end := bytes.IndexByte(b[pos:], '\n')
		if end < 0 {
			return r.partFrame()
		}
		end += pos
		if end-pos < 2 || b[end-1] != '\r' {
			return -1
		}
		kind, line := Kind(b[pos]), b[pos+1:end-1]
		pos = end + 1
		owed--
		switch kind {
		case SimpleString, SimpleError, Integer, Null, Boolean, Double, BigNumber:
		case BulkString, BulkError, Verbatim:
			n, ok := parseInt(line)
			if !ok || n < -1 || n > size {
				return -1
			}
			if n >= 0 {
				pos += int(n) + 2
				if pos > len(b) {
					return r.partFrame()
				}
			}
		case Array, Set, Push, Map, Attribute:
			// Every element takes at least 3 bytes: more of them
			// than the buffer has bytes cannot fit.
			n, ok := parseInt(line)
			if !ok || n < -1 || n > size {
				return -1
			}
			if kind == Map || kind == Attribute {
				n *= 2
			}
			owed += int(max(n, 0))
			if kind == Attribute {
				owed++ // the value the attributes are about
			}
		default:
			return -1
		}
	}
	return pos
}

// partFrame is BufferedFrame's answer for a frame whose end is not
// buffered: 0 while the buffer has room for more, -1 when it is full.
func (r *Reader) partFrame() int {
	if r.br.Buffered() >= r.br.Size() {
		return -1
	}
	return 0
}

// Fill reads the source once more into the buffer, consuming nothing, and
// returns the source's error (io.EOF when it ended). It returns
// bufio.ErrBufferFull, without reading, when the buffer is full. A read that
// fails, for example because a deadline passed, loses nothing buffered: the
// next Read or Fill goes on from the same place.
func (r *Reader) Fill() error {
	n := r.br.Buffered()
	if n >= r.br.Size() {
		return bufio.ErrBufferFull
	}
	_, err := r.br.Peek(n + 1)
	return err
}
