package slots

// NumSlots is the number of hash slots in a Redis Cluster.
const NumSlots = 16384

// crc16Table holds CRC16/XMODEM (polynomial 0x1021, initial value 0, no
// reflection) of every byte value, so the hash costs one lookup per byte.
var crc16Table = func() (t [256]uint16) {
	for b := range t {
		crc := uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[b] = crc
	}
	return t
}()

// crc16 is CRC16/XMODEM of s, the checksum Redis Cluster hashes keys with.
func crc16[S string | []byte](s S) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^s[i]]
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

// SlotBytes is Slot for a key held in a byte slice.
func SlotBytes(key []byte) uint16 {
	return crc16(hashTag(key)) & (NumSlots - 1)
}

// hashTag returns the part of key that decides its slot.
func hashTag[S string | []byte](key S) S {
	for open := 0; open < len(key); open++ {
		if key[open] != '{' {
			continue
		}
		for end := open + 1; end < len(key); end++ {
			if key[end] == '}' {
				if end == open+1 {
					return key // empty tag: the whole key
				}
				return key[open+1 : end]
			}
		}
		return key // no '}' after the first '{'
	}
	return key
}
