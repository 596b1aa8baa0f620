package slots

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCRC16(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
	}{
		{"", 0},
		{"123456789", 0x31C3}, // the CRC16/XMODEM check value
		{"A", 0x58E5},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, crc16(tt.in), "crc16(%q)", tt.in)
	}
}

func TestHashTag(t *testing.T) {
	tests := []struct {
		key, tag string
	}{
		{"", ""},
		{"foo", "foo"},
		{"{user1000}.following", "user1000"},
		{"{user1000}.followers", "user1000"},
		{"foo{}{bar}", "foo{}{bar}"},
		{"foo{{bar}}zap", "{bar"},
		{"foo{bar}{zap}", "bar"},
		{"{", "{"},
		{"}{", "}{"},
		{"foo{bar", "foo{bar"},
		{"a{b}", "b"},
		{"{}", "{}"},
		{"x{}}", "x{}}"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.tag, hashTag(tt.key), "hashTag(%q)", tt.key)
	}
}

func TestSlot(t *testing.T) {
	tests := []struct {
		key  string
		want uint16
	}{
		// Values answered by redis-server 7.0 to CLUSTER KEYSLOT.
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"123456789", 12739},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"foo{}{bar}", 8363},
		{"foo{{bar}}zap", 4015},
		{"foo{bar}{zap}", 5061},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Slot(tt.key), "Slot(%q)", tt.key)
		assert.Equal(t, tt.want, SlotBytes([]byte(tt.key)), "SlotBytes(%q)", tt.key)
	}
}

func TestSlotDoesNotAllocate(t *testing.T) {
	key := []byte("{user1000}.following")
	allocs := testing.AllocsPerRun(100, func() {
		_ = Slot("{user1000}.following")
		_ = SlotBytes(key)
	})
	assert.Zero(t, allocs)
}

// crc16Bitwise is CRC16/XMODEM computed bit by bit, the definition the
// table-driven crc16 must match.
func crc16Bitwise(s []byte) uint16 {
	var crc uint16
	for _, b := range s {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestCRC16MatchesBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 200 {
		b := make([]byte, n%70)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		require.Equal(t, crc16Bitwise(b), crc16(string(b)), "% x", b)
	}
}
