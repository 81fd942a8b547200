package analyzer

// Slab lengths: each array is a size class of the allocator (64 connStates
// of 160 bytes make 10,240; 64 handshakes of 288 bytes, 18,432), so that
// no array wastes its tail.
const (
	connSlabLen      = 64
	handshakeSlabLen = 64
)

// slab hands out zeroed values of T carved from arrays of n: one
// allocation, and one object for the collector to track, instead of n.
// It is for what an Analyzer keeps to the end of its run, its connStates
// and handshakes: every one stays reachable (from Analyzer.all and its
// connection's hs) until the report is done with them, so an array never
// outlives what it holds. Nothing is given back or reused, so nothing
// handed out aliases another value. A slab belongs to one Analyzer and is
// used under its lock.
type slab[T any] struct {
	rest []T // the unused part of the current array
}

// alloc returns a pointer to a zeroed T, carving a new array of n when
// the current one is used up.
func (s *slab[T]) alloc(n int) *T {
	if len(s.rest) == 0 {
		s.rest = make([]T, n)
	}
	p := &s.rest[0]
	s.rest = s.rest[1:]
	return p
}
