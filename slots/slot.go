package slots

import "unsafe"

// NumSlots is the number of hash slots in a Redis Cluster.
const NumSlots = 16384

// crc16Tables hold CRC16/XMODEM (polynomial 0x1021, initial value 0, no
// reflection): crc16Tables[0][b] is the CRC of the byte b, and
// crc16Tables[k][b] the CRC of b followed by k zero bytes. The CRC is linear,
// so four bytes at a time are four independent lookups ("slicing by 4")
// rather than a chain of four dependent ones.
var crc16Tables = func() (t [4][256]uint16) {
	for b := range t[0] {
		crc := uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[0][b] = crc
	}
	for k := 1; k < len(t); k++ {
		for b := range t[k] {
			prev := t[k-1][b] // then one more zero byte
			t[k][b] = prev<<8 ^ t[0][prev>>8]
		}
	}
	return t
}()

// crc16 is CRC16/XMODEM of s, the checksum Redis Cluster hashes keys with.
func crc16(s string) uint16 {
	t := &crc16Tables
	var crc uint16
	for len(s) >= 4 {
		crc = t[3][byte(crc>>8)^s[0]] ^ t[2][byte(crc)^s[1]] ^ t[1][s[2]] ^ t[0][s[3]]
		s = s[4:]
	}
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ t[0][byte(crc>>8)^s[i]]
	}
	return crc
}

// Slot returns the hash slot of key: CRC16/XMODEM modulo 16384 of its hash
// tag if it has a non-empty one, else of the whole key. The hash tag is what
// lies between the first '{' and the first '}' after it, so
// "{user1000}.following" and "{user1000}.followers" share a slot, while
// "foo{}{bar}" is hashed whole. Slot does not allocate.
func Slot(key string) uint16 {
	return crc16(hashTag(key)) & (NumSlots - 1)
}

// SlotBytes is Slot for a key held in a byte slice. It does not allocate.
func SlotBytes(key []byte) uint16 {
	// The string shares key's memory only for the duration of the call,
	// which neither keeps nor modifies it.
	return Slot(unsafe.String(unsafe.SliceData(key), len(key)))
}

// hashTag returns the part of key that decides its slot. Keys are short, so
// plain loops beat strings.IndexByte's calls here.
func hashTag(key string) string {
	for open := 0; open < len(key); open++ {
		if key[open] != '{' {
			continue
		}
		for end := open + 1; end < len(key); end++ {
			if key[end] == '}' {
				if end == open+1 {
					return key // an empty tag: the whole key is hashed
				}
				return key[open+1 : end]
			}
		}
		return key // no '}' after the first '{'
	}
	return key
}
