package freelist

import "testing"

// bound is what the tests give Put as its max.
const bound = 1024

// TestList: values come back last in first out; beyond bound, Put
// drops them; Get on an empty list says so; a value taken is no longer
// referenced by the list.
func TestList(t *testing.T) {
	for _, tt := range []struct {
		name    string
		put     int // values 1..put
		get     int
		wantLen int
		want    []int // the values get returns, in order; 0: none
	}{
		{"empty", 0, 1, 0, []int{0}},
		{"last in first out", 3, 4, 0, []int{3, 2, 1, 0}},
		{"some left", 3, 1, 2, []int{3}},
		{"bounded", bound + 5, 2, bound - 2, []int{bound, bound - 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var l List[*int]
			for i := 1; i <= tt.put; i++ {
				l.Put(&i, bound)
			}
			for i, want := range tt.want {
				v, ok := l.Get()
				switch {
				case want == 0 && (ok || v != nil):
					t.Errorf("get %d: %v, %v from an empty list", i, v, ok)
				case want != 0 && (!ok || *v != want):
					t.Errorf("get %d: %v, want %d", i, v, want)
				}
			}
			if l.Len() != tt.wantLen {
				t.Errorf("len %d, want %d", l.Len(), tt.wantLen)
			}
			for _, v := range l.items[l.Len():cap(l.items)] {
				if v != nil {
					t.Fatal("the list still references a value it gave out")
				}
			}
		})
	}
}
