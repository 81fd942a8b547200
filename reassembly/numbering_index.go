package reassembly

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// slotIndex maps 4-tuples to the numberer's slots: an open-addressing hash
// table with linear probing, whose buckets hold only the key's hash and
// the slot (the key itself is in the slot's entry). The numberer looks a
// key up for every packet of the capture, among up to hundreds of
// thousands of conversations: a Go map costs a hash of the 44-byte key
// and two cache misses (control word, then slot) before the entry's
// third; here the probe reads 8-byte buckets, usually one, then the
// entry. Deletion shifts the following buckets back (no tombstones), so
// probes stay short however many conversations come and go.
//
// The hash is seeded per run, so that a crafted capture cannot aim its
// tuples at one chain.
type slotIndex struct {
	buckets []uint64 // hash<<32 | slot+1; 0 is an empty bucket
	n       int      // buckets in use
	seed    [3]uint64
}

// slotIndexMin is the initial number of buckets (a power of two).
const slotIndexMin = 1 << 10

func newSlotIndex() slotIndex {
	return slotIndex{buckets: make([]uint64, slotIndexMin), seed: [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()}}
}

// hash returns k's hash: the addresses and the ports and file folded by
// 64-bit multiplications (as wyhash does). It is not the shard hash
// (tupleKey.hash), which must be the same in every run.
func (x *slotIndex) hash(k *tupleKey) uint32 {
	const m1, m2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	a0, a1 := binary.LittleEndian.Uint64(k.a[:8]), binary.LittleEndian.Uint64(k.a[8:])
	b0, b1 := binary.LittleEndian.Uint64(k.b[:8]), binary.LittleEndian.Uint64(k.b[8:])
	rest := uint64(k.pa) | uint64(k.pb)<<16 | uint64(k.file)<<32
	h := mix64(a0^x.seed[0], a1^m1) ^ mix64(b0^x.seed[1], b1^m2) ^ mix64(rest^x.seed[2], m1)
	return uint32(mix64(h, m2))
}

// mix64 folds the 128-bit product of a and b to 64 bits.
func mix64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// find returns the slot of key k, whose hash is h; slab holds the
// entries the buckets point to.
func (x *slotIndex) find(h uint32, k *tupleKey, slab *numSlab) (slot uint32, ok bool) {
	mask := uint32(len(x.buckets) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		b := x.buckets[i]
		if b == 0 {
			return 0, false
		}
		if uint32(b>>32) == h {
			if s := uint32(b) - 1; slab.at(s).key.equal(k) {
				return s, true
			}
		}
	}
}

// insert adds slot under hash h; the key must not be in the index.
func (x *slotIndex) insert(h, slot uint32) {
	if (x.n+1)*4 > len(x.buckets)*3 {
		x.grow()
	}
	x.put(uint64(h)<<32 | uint64(slot+1))
	x.n++
}

// put stores bucket value v in the first empty bucket of its chain.
func (x *slotIndex) put(v uint64) {
	mask := uint32(len(x.buckets) - 1)
	i := uint32(v>>32) & mask
	for x.buckets[i] != 0 {
		i = (i + 1) & mask
	}
	x.buckets[i] = v
}

// grow doubles the buckets.
func (x *slotIndex) grow() {
	old := x.buckets
	x.buckets = make([]uint64, 2*len(old))
	for _, v := range old {
		if v != 0 {
			x.put(v)
		}
	}
}

// remove deletes slot, stored under hash h, and shifts back the buckets
// after it that would no longer be found past the hole.
func (x *slotIndex) remove(h, slot uint32) {
	mask := uint32(len(x.buckets) - 1)
	v := uint64(h)<<32 | uint64(slot+1)
	i := h & mask
	for x.buckets[i] != v {
		if x.buckets[i] == 0 {
			return // not there: nothing to do
		}
		i = (i + 1) & mask
	}
	x.n--
	for j := i; ; {
		x.buckets[i] = 0
		for {
			j = (j + 1) & mask
			b := x.buckets[j]
			if b == 0 {
				return
			}
			// The bucket at j stays when its home lies cyclically
			// in (i, j]: a probe from there does not cross i.
			home := uint32(b>>32) & mask
			if (i < j && i < home && home <= j) || (i > j && (home > i || home <= j)) {
				continue
			}
			x.buckets[i] = b
			i = j
			break
		}
	}
}
