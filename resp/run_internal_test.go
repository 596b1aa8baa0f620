package resp

import (
	"strings"
	"testing"
	"unsafe"
)

// TestReadRunSlabBound: every small value of a run lies in a slab of at
// most runSlabSize bytes, so that a value kept from a run keeps no more
// than that alive, and no slab is larger than the bytes buffered for it.
func TestReadRunSlabBound(t *testing.T) {
	const count = 1000
	input := strings.Repeat("$16\r\n0123456789abcdef\r\n", count)
	r := NewReaderSize(strings.NewReader(input), len(input)+16)
	if err := r.WaitFrame(); err != nil {
		t.Fatal(err)
	}
	dst := make([]Value, 1)
	var last uintptr
	for i := range count {
		buffered := r.Buffered()
		if r.ReadRun(dst, true) != 1 {
			t.Fatalf("value %d: ReadRun took nothing", i)
		}
		slab := uintptr(unsafe.Pointer(unsafe.SliceData(r.slab)))
		if slab != last && (cap(r.slab) > runSlabSize || cap(r.slab) > buffered) {
			t.Fatalf("value %d: a new slab of %d bytes, with %d buffered (bound %d)", i, cap(r.slab), buffered, runSlabSize)
		}
		last = slab
		at := uintptr(unsafe.Pointer(unsafe.StringData(dst[0].str)))
		if at < slab || at+uintptr(len(dst[0].str)) > slab+uintptr(cap(r.slab)) {
			t.Fatalf("value %d lies outside the Reader's slab", i)
		}
	}
}
