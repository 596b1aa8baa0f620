package resp_test

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// oneKeyMGets is count replies of one-key MGETs, as a cluster's split MGET
// brings back from one node, the i-th holding the text "v<i>".
func oneKeyMGets(count int) string {
	var b strings.Builder
	for i := range count {
		text := "v" + strconv.Itoa(i)
		b.WriteString("*1\r\n$" + strconv.Itoa(len(text)) + "\r\n" + text + "\r\n")
	}
	return b.String()
}

// TestReadRunArraysShareElements: with share, the elements of a run's
// arrays lie in one allocation, each array's slice capped at its length,
// so a run of 33 one-key MGETs allocates a few times, not once per array
// (ClusterMGet of 100 keys allocated 131 times, 100 of them arrays'
// elements); without share each array has its own.
func TestReadRunArraysShareElements(t *testing.T) {
	const count = 33
	input := oneKeyMGets(count)
	dst := make([]resp.Value, count)
	r := bufferedReader(t, input)
	require.Equal(t, count, r.ReadRun(dst, true))
	for i, v := range dst {
		require.Equal(t, resp.Array, v.Kind())
		require.Len(t, v.Elems(), 1)
		text, err := v.Elems()[0].Text()
		require.NoError(t, err)
		require.Equal(t, "v"+strconv.Itoa(i), text)
		assert.Equal(t, 1, cap(v.Elems()), "array %d: capped at its length", i)
	}
	for i := 1; i < count; i++ {
		at := uintptr(unsafe.Pointer(unsafe.SliceData(dst[i-1].Elems())))
		assert.Equal(t, at+unsafe.Sizeof(resp.Value{}), uintptr(unsafe.Pointer(unsafe.SliceData(dst[i].Elems()))), "array %d follows array %d", i, i-1)
	}
	// Appending to one array's elements leaves the next one's alone.
	grown := append(dst[0].Elems(), resp.NewBulkString("x"))
	text, _ := dst[1].Elems()[0].Text()
	assert.Equal(t, "v1", text)
	assert.Len(t, grown, 2)

	allocs := func(share bool) float64 {
		return testing.AllocsPerRun(20, func() {
			r := resp.NewReaderSize(strings.NewReader(input), len(input)+16)
			r.WaitFrame()
			r.ReadRun(dst, share)
		})
	}
	// The Reader and its buffer, the string slab, the Reader's room for
	// a run's elements, and the elements' one allocation: a handful.
	assert.LessOrEqual(t, allocs(true), float64(8), "with share")
	// The Reader and its buffer, and per array its elements and its string.
	assert.GreaterOrEqual(t, allocs(false), float64(3+2*count), "without share")
}

// TestReadRunElementBound: a run read with share decodes at most 64 array
// elements, which then share one allocation of 4 KiB, so that a value
// kept from the run keeps no more than that alive; the next run takes the
// arrays after them.
func TestReadRunElementBound(t *testing.T) {
	const count = 100
	r := bufferedReader(t, oneKeyMGets(count))
	dst := make([]resp.Value, count)
	got := 0
	for got < count {
		n := r.ReadRun(dst[got:], true)
		require.Positive(t, n, "after %d arrays", got)
		require.LessOrEqual(t, n, 64)
		got += n
	}
	for i, v := range dst {
		text, err := v.Elems()[0].Text()
		require.NoError(t, err)
		require.Equal(t, "v"+strconv.Itoa(i), text)
	}
	assert.NotEqual(t, unsafe.SliceData(dst[63].Elems()), unsafe.SliceData(dst[64].Elems()))
}
