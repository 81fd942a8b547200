package reassembly

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// TestSlotIndex inserts and removes keys at random and checks every key
// against a map after each step; the hash is squeezed to a few values so
// that long chains wrap around the table and deletions shift them.
func TestSlotIndex(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hashes uint32 // distinct hash values (0: the real hash)
		keys   int
	}{
		{"real hash", 0, 3000},
		{"one chain", 1, 200},
		{"few chains", 7, 2000},
		{"near the end", 3, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.keys)))
			x := newSlotIndex()
			var ns numSlab
			for range tc.keys {
				ns.grow()
			}
			slab := make([]*numEntry, tc.keys)
			for i := range slab {
				slab[i] = ns.at(uint32(i))
			}
			hashOf := func(k *tupleKey) uint32 {
				h := x.hash(k)
				if tc.hashes != 0 {
					// The last buckets, so that chains wrap to the front.
					h = uint32(slotIndexMin) - 1 - h%tc.hashes
				}
				return h
			}
			for i := range slab {
				src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(1000+i))
				slab[i].key, _ = makeTupleKey(i%3, src, netip.MustParseAddrPort("10.9.9.9:80"))
				slab[i].hash = hashOf(&slab[i].key)
			}
			in := map[uint32]bool{}
			for step := range 20 * tc.keys {
				s := uint32(rng.IntN(tc.keys))
				if in[s] {
					x.remove(slab[s].hash, s)
					delete(in, s)
				} else {
					x.insert(slab[s].hash, s)
					in[s] = true
				}
				if step%97 != 0 && step < 20*tc.keys-1 {
					continue
				}
				for i := range slab {
					got, ok := x.find(slab[i].hash, &slab[i].key, &ns)
					if ok != in[uint32(i)] || ok && got != uint32(i) {
						t.Fatalf("step %d: find(key %d) = %d, %v; want present %v", step, i, got, ok, in[uint32(i)])
					}
				}
				if x.n != len(in) {
					t.Fatalf("step %d: %d buckets in use, %d keys", step, x.n, len(in))
				}
			}
		})
	}
}

// TestSlotIndexSeed: two indexes hash the same key differently (a crafted
// capture cannot aim at one chain in every run).
func TestSlotIndexSeed(t *testing.T) {
	k, _ := makeTupleKey(0, netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:80"))
	seen := map[uint32]bool{}
	for range 4 {
		x := newSlotIndex()
		seen[x.hash(&k)] = true
	}
	if len(seen) < 2 {
		t.Errorf("four indexes hashed the key alike: %v", fmt.Sprint(seen))
	}
}

// BenchmarkNumberer numbers packets of many concurrent conversations, as
// the dispatcher of a sharded run does for every packet.
func BenchmarkNumberer(b *testing.B) {
	const conns = 200000
	pkts := make([]Packet, conns)
	for i := range pkts {
		p := &pkts[i]
		p.Src = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		p.Dst = netip.MustParseAddr("10.200.0.1")
		p.TCP.SrcPort, p.TCP.DstPort = 40000, 80
		p.TCP.Seq = uint32(i)
	}
	n := newNumberer(time.Hour)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n.assign(&pkts[i*7919%conns])
		i++
	}
}
