package analyzer

import (
	"slices"
	"testing"
)

// TestExchList checks the chunked exchange records of an open connection:
// records keep their index across chunks, writes through at stay, and
// release gives back cleared chunks, which the next list reuses.
func TestExchList(t *testing.T) {
	for _, n := range []int{0, 1, exchChunkLen - 1, exchChunkLen, exchChunkLen + 1, maxExchanges} {
		var pool chunkPool
		var l exchList
		for i := range n {
			if got := l.add(&exchRec{reqFrame: int64(i)}, &pool); got != i {
				t.Fatalf("n=%d: add #%d returned %d", n, i, got)
			}
		}
		for i := range n {
			l.at(i).respFrame = int64(i) + 1000 // as recordResponse does
		}
		if l.len() != n || len(l.chunks) != (n+exchChunkLen-1)/exchChunkLen {
			t.Fatalf("n=%d: len %d in %d chunks", n, l.len(), len(l.chunks))
		}
		for i := range n {
			if e := l.at(i); e.reqFrame != int64(i) || e.respFrame != int64(i)+1000 {
				t.Fatalf("n=%d: record %d is %+v", n, i, e)
			}
		}
		chunks := len(l.chunks)
		l.release(&pool)
		if l.len() != 0 || len(l.chunks) != 0 || pool.free.Len() != chunks {
			t.Fatalf("n=%d: after release: len %d, %d chunks, %d pooled; want 0, 0, %d", n, l.len(), len(l.chunks), pool.free.Len(), chunks)
		}
		var pooled []*exchChunk // taken out to look at, then put back in order
		for c, ok := pool.free.Get(); ok; c, ok = pool.free.Get() {
			if *c != (exchChunk{}) {
				t.Fatalf("n=%d: a pooled chunk is not cleared", n)
			}
			pooled = append(pooled, c)
		}
		for _, c := range slices.Backward(pooled) {
			pool.put(c)
		}
		// The next list takes the pooled chunks before making any.
		for i := range n {
			l.add(&exchRec{reqFrame: int64(i)}, &pool)
		}
		if pool.free.Len() != 0 {
			t.Fatalf("n=%d: %d chunks left in the pool after reuse", n, pool.free.Len())
		}
	}
}

// TestChunkPoolBound checks that the pool keeps at most maxFreeChunks.
func TestChunkPoolBound(t *testing.T) {
	var pool chunkPool
	for range maxFreeChunks + 10 {
		pool.put(new(exchChunk))
	}
	if pool.free.Len() != maxFreeChunks {
		t.Errorf("pool keeps %d chunks, want %d", pool.free.Len(), maxFreeChunks)
	}
}

// TestSlab checks that a slab hands out distinct zeroed values, n from
// each array.
func TestSlab(t *testing.T) {
	var s slab[handshake]
	seen := map[*handshake]bool{}
	for i := range 3*handshakeSlabLen + 1 {
		h := s.alloc(handshakeSlabLen)
		if seen[h] || *h != (handshake{}) {
			t.Fatalf("alloc #%d: repeated or not zero", i)
		}
		seen[h] = true
		h.id = int32(i) // written, as newHandshake does
		if want := handshakeSlabLen - 1 - i%handshakeSlabLen; len(s.rest) != want {
			t.Fatalf("alloc #%d: %d left in the array, want %d", i, len(s.rest), want)
		}
	}
}
