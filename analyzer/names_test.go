package analyzer

import (
	"slices"
	"strings"
	"testing"
)

// TestNameSet: names compare case-insensitively and keep their first
// spelling and order, in a small set and past nameSetSmall alike.
func TestNameSet(t *testing.T) {
	var in []string
	for i := range 3 * nameSetSmall {
		in = append(in, "CORP\\User"+itoa(i))
	}
	var s nameSet
	var want []string
	for round := range 3 {
		for i, n := range in {
			if round == 1 {
				n = strings.ToLower(n)
			}
			if round == 2 {
				n = strings.ToUpper(n)
			}
			isNew := s.add(n)
			if isNew != (round == 0) {
				t.Errorf("round %d: add(%q) = %v", round, n, isNew)
			}
			if round == 0 {
				want = append(want, n)
			}
			if s.addKeyed(n, strings.ToLower(n)) {
				t.Errorf("round %d: addKeyed(%q) after add reported a new name", round, n)
			}
			if round == 0 && !slices.Equal(s.list(), want[:i+1]) {
				t.Fatalf("after %d names: list %q", i+1, s.list())
			}
		}
	}
	if !slices.Equal(s.list(), want) {
		t.Errorf("list = %q, want %q", s.list(), want)
	}
	if got := (&nameSet{}).list(); got == nil || len(got) != 0 {
		t.Errorf("empty set lists %#v", got)
	}
}
