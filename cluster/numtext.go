package cluster

import (
	"sync"
	"unsafe"

	"github.com/respwire/respwire/conn"
)

const (
	// slabSize is the room for number text in one slab: some thousands of
	// numbers, so a slab costs well under one allocation per command.
	slabSize = 16 << 10
	// maxNumberText is the longest text of a number argument: an int64
	// takes 20 bytes, a float64 24 ("-1.2345678901234567e-308").
	maxNumberText = 32
)

// textSlab is memory for the text of number arguments that DoCmd hands to
// Do as strings. It is append-only: bytes below len(buf) belong to strings
// already handed out and are never written again, so such a string stays
// valid for as long as anything holds it, even after the slab went back to
// the pool and on to another caller, who only appends after them. A full
// slab is left to the collector, which frees it once no string points into
// it.
type textSlab struct {
	buf []byte
}

// slabs keeps slabs per P, so that callers on different CPUs don't contend.
var slabs = sync.Pool{New: func() any { return &textSlab{buf: make([]byte, 0, slabSize)} }}

// numberArg returns the text of cmd's argument i, a number, as a string in a
// slab. Unlike text on DoCmd's stack, it doesn't depend on Do keeping its
// arguments from escaping: a string Do keeps stays valid.
func numberArg(cmd *conn.Command, i int) string {
	s := slabs.Get().(*textSlab)
	if cap(s.buf)-len(s.buf) < maxNumberText {
		s.buf = make([]byte, 0, slabSize)
	}
	start := len(s.buf)
	// A window of maxNumberText bytes: longer text (there is none) would
	// go to memory of its own instead of past the window.
	out := cmd.AppendArg(s.buf[start:start:start+maxNumberText], i)
	if len(out) <= maxNumberText {
		s.buf = s.buf[:start+len(out)]
	}
	text := unsafe.String(unsafe.SliceData(out), len(out))
	slabs.Put(s)
	return text
}
