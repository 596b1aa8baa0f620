// Package appendbuf is the writer behind DoBuffer: it appends what it is
// given to a slice, and reads a body straight into the slice's spare
// capacity.
package appendbuf

import (
	"io"
	"slices"
)

// Writer is DoBuffer's writer, in conn and in cluster: it appends to Buf.
// As an io.ReaderFrom it lets a DoStream read a body straight into Buf.
type Writer struct{ Buf []byte }

func (a *Writer) Write(p []byte) (int, error) {
	a.Buf = append(a.Buf, p...)
	return len(p), nil
}

// ReadFrom reads src (a body, whose Len says what is left) into buf's spare
// capacity, growing buf only when it is full, by at most what is left and
// at most its size or 64 KiB: memory follows the bytes that arrive.
func (a *Writer) ReadFrom(src io.Reader) (int64, error) {
	var total int64
	rest, sized := src.(interface{ Len() int })
	for {
		if sized && rest.Len() == 0 {
			return total, nil
		}
		if len(a.Buf) == cap(a.Buf) {
			more := max(cap(a.Buf), 64<<10)
			if sized {
				more = min(more, rest.Len())
			}
			a.Buf = slices.Grow(a.Buf, more)
		}
		k, err := src.Read(a.Buf[len(a.Buf):cap(a.Buf)])
		a.Buf = a.Buf[:len(a.Buf)+k]
		total += int64(k)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
