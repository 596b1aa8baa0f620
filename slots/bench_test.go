package slots

import (
	"testing"

	"github.com/respwire/respwire/resp"
)

func BenchmarkSlot(b *testing.B) {
	for _, bc := range []struct{ name, key string }{
		{"short", "key:000042"},
		{"tag", "{user1000}.following"},
		{"long", "session:2f0c1a9e-8d1b-4b8e-9b7f-3c2d1e0f9a8b:profile:settings"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink uint16
			for b.Loop() {
				sink += Slot(bc.key)
			}
			_ = sink
		})
	}
}

func BenchmarkSlotBytes(b *testing.B) {
	key := []byte("{user1000}.following")
	b.ReportAllocs()
	var sink uint16
	for b.Loop() {
		sink += SlotBytes(key)
	}
	_ = sink
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name, file string
		parse      func(v resp.Value, askedAddr string) (*Topology, error)
	}{
		{"slots/resp3", "hostname_gap_slots_resp3", ParseClusterSlots},
		{"slots/resp2", "hostname_gap_slots_resp2", ParseClusterSlots},
		{"shards/resp3", "hostname_gap_shards_resp3", ParseClusterShards},
		{"shards/resp2", "hostname_gap_shards_resp2", ParseClusterShards},
	} {
		v := readCapture(b, "../testdata/slots/"+bc.file+".bin")
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.parse(v, "127.0.0.1:27101"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkShardFor(b *testing.B) {
	v := readCapture(b, "../testdata/slots/plain_slots_resp3.bin")
	topo, err := ParseClusterSlots(v, "127.0.0.1:27101")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var slot uint16
	for b.Loop() {
		if _, ok := topo.ShardFor(slot); !ok {
			b.Fatal("unserved")
		}
		slot = (slot + 1) & (NumSlots - 1)
	}
}

func BenchmarkDiff(b *testing.B) {
	gap, err := ParseClusterSlots(readCapture(b, "../testdata/slots/hostname_gap_slots_resp3.bin"), "127.0.0.1:27101")
	if err != nil {
		b.Fatal(err)
	}
	plain, err := ParseClusterSlots(readCapture(b, "../testdata/slots/plain_slots_resp3.bin"), "127.0.0.1:27101")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Diff(gap, plain)
	}
}
