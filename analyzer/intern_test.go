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

// TestInternCacheRequestLine checks that requestLine returns the interned
// method and target of the line asked for, also when two lines share a
// hash (which only costs a miss).
func TestInternCacheRequestLine(t *testing.T) {
	c := &internCache{in: newInterner()}
	for _, tc := range []struct {
		hash           uint64
		method, target string
	}{
		{1, "GET", "/"},
		{1, "GET", "/"}, // found
		{1, "POST", "/"},
		{1, "POST", "/app"},
		{2, "GET", "/"},
		{1, "GET", "/"}, // back after two other lines of its hash
	} {
		// A copy, as a message's strings are: none may be kept.
		m, tg := strings.Clone(tc.method), strings.Clone(tc.target)
		l := c.requestLine(tc.hash, m, tg)
		if l.method != tc.method || l.target != tc.target {
			t.Fatalf("requestLine(%d, %q, %q) = %q", tc.hash, tc.method, tc.target, l)
		}
		if unsafe.StringData(l.method) == unsafe.StringData(m) || unsafe.StringData(l.target) == unsafe.StringData(tg) {
			t.Fatalf("requestLine(%d, %q, %q) keeps the caller's string", tc.hash, tc.method, tc.target)
		}
		if l.method != c.str(m) || unsafe.StringData(l.method) != unsafe.StringData(c.str(m)) {
			t.Fatalf("requestLine(%d, %q, %q): method is not the interned one", tc.hash, tc.method, tc.target)
		}
	}
}
