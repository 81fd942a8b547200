package analyzer

import (
	"strings"
	"testing"
	"unsafe"
)

// TestInternCacheLine checks that a cache returns the interner's indexes
// (the same for two caches of one interner, the same again once its own
// table was emptied) and keeps only the interner's strings.
func TestInternCacheLine(t *testing.T) {
	in := newInterner()
	a, b := &internCache{in: in}, &internCache{in: in}
	lines := []reqLine{
		{"GET", "/"},
		{"GET", "/app"},
		{"POST", "/app"},
		{"GET", "/"}, // again
		{"get", "/"}, // case matters
		{"", ""},
	}
	ids := map[reqLine]lineID{}
	for round := range 2 {
		for _, l := range lines {
			// A copy, as a message's strings are: the caches must not
			// keep it.
			m, tg := strings.Clone(l.method), strings.Clone(l.target)
			ia, ib := a.line(m, tg), b.line(m, tg)
			if ia != ib {
				t.Fatalf("round %d: %q: caches say %d and %d", round, l, ia, ib)
			}
			if want, ok := ids[l]; ok && ia != want {
				t.Fatalf("round %d: %q: id %d, was %d", round, l, ia, want)
			}
			ids[l] = ia
			if got := in.lines[ia]; got != l {
				t.Fatalf("round %d: id %d is %q, want %q", round, ia, got, l)
			}
		}
		if len(ids) != 5 {
			t.Fatalf("round %d: %d distinct ids, want 5", round, len(ids))
		}
		for k, id := range a.lines {
			if il := in.lines[id]; unsafe.StringData(k.method) != unsafe.StringData(il.method) ||
				unsafe.StringData(k.target) != unsafe.StringData(il.target) {
				t.Errorf("round %d: cache key %q is not the interned line", round, k)
			}
		}
		a.lines = map[reqLine]lineID{} // as when full: the interner's indexes stay valid
	}
}
