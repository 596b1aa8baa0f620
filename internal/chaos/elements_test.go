package chaos

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/resp"
)

// TestSmallElementsAmplify: DESIGN.md promises that a peer can't make the
// reader allocate much more than the bytes it sent, and resp's doc says how
// much more: every element is a Value of S bytes for at least 3 bytes on the
// wire, so reading a counted array allocates at most 2*S/3 bytes per byte
// sent in all, a streamed one at most 4*S/3 (its slice doubles and may end
// half empty). Nulls, 3 bytes each, are the worst case; one more than a
// power of two of them makes the streamed slice double just before the end.
// The heap in use at the peak cannot exceed what was allocated, so it is
// held to the same bound. Before the fix, element slices grew by append
// (about 1.25 times a step): a million small elements allocated about 80
// times what was sent, well over either bound.
func TestSmallElementsAmplify(t *testing.T) {
	const count = 1<<20 + 1
	valueSize := float64(unsafe.Sizeof(resp.Value{}))
	for _, tc := range []struct {
		header, trailer string
		perByte         float64 // allocation allowed per byte sent
	}{
		{"*" + strconv.Itoa(count) + "\r\n", "", 2 * valueSize / 3},
		{"*?\r\n", ".\r\n", 4 * valueSize / 3},
	} {
		t.Run(strings.TrimSpace(tc.header), func(t *testing.T) {
			wire := tc.header + strings.Repeat("_\r\n", count) + tc.trailer
			var v resp.Value
			var err error
			total, peak := memoryDuring(func() {
				v, err = resp.NewReader(strings.NewReader(wire)).Read()
			})
			require.NoError(t, err)
			require.Len(t, v.Elems(), count)
			sent := float64(len(wire))
			bound := tc.perByte*sent + mib // a MiB for the runtime's own noise
			t.Logf("%d KiB sent: %.1f bytes allocated, %.1f at the peak in use per byte sent (bound %.1f)",
				len(wire)>>10, float64(total)/sent, float64(peak)/sent, tc.perByte)
			require.Less(t, float64(total), bound, "allocated more than the documented bound")
			require.Less(t, float64(peak), bound, "held more than the documented bound")
		})
	}
}
