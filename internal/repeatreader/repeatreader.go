// Package repeatreader is a source of bytes for tests and benchmarks: the
// same frame, served over and over, so that what reads it is measured or
// driven without a network.
package repeatreader

// Reader serves Frame forever: every Read fills all of p, going on from
// where the previous Read stopped.
type Reader struct {
	Frame []byte
	off   int
}

// New returns a Reader serving frame.
func New(frame string) *Reader { return &Reader{Frame: []byte(frame)} }

func (r *Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.Frame[r.off:])
		n += c
		r.off = (r.off + c) % len(r.Frame)
	}
	return n, nil
}
