package report

import (
	"reflect"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// TestCutPerCode: the first perCode findings of each code are kept in the
// report's order, and the cut codes are listed in the order the codes
// first appear (not the order they overflow).
func TestCutPerCode(t *testing.T) {
	var findings []analyzer.Finding
	add := func(code string, n int) {
		for range n {
			findings = append(findings, analyzer.Finding{Code: code, Count: len(findings)})
		}
	}
	add("B", 1)
	add("A", 11)
	add("B", 10)
	add("C", 2)

	got := cutPerCode(findings, 10)
	if want := []codeCut{{"B", 1}, {"A", 1}}; !reflect.DeepEqual(got.Cut, want) {
		t.Errorf("cut %v, want %v", got.Cut, want)
	}
	var kept []int // positions in findings, which Count holds
	for _, f := range got.Rows {
		kept = append(kept, f.Count)
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23}
	if !reflect.DeepEqual(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}

	whole := cutPerCode(findings, 11)
	if whole.Cut != nil || len(whole.Rows) != len(findings) || &whole.Rows[0] != &findings[0] {
		t.Errorf("nothing to cut: got %d rows and cuts %v, want the report's own %d", len(whole.Rows), whole.Cut, len(findings))
	}
}
