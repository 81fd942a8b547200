package report

import (
	"cmp"
	"math"
	"slices"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// limit is the cap n, or no cap at all when all is set (-v, or a filter
// that asked for these rows): how a format for people sizes each list.
func limit(n int, all bool) int {
	if all {
		return math.MaxInt
	}
	return n
}

// headInts returns the first n of ids (all when there are no more).
func headInts(ids []int, n int) []int { return ids[:min(len(ids), n)] }

// moreInts returns how many of ids headInts leaves out.
func moreInts(ids []int, n int) int { return max(0, len(ids)-n) }

// mostFailedFirst orders users by failed and abandoned handshakes, most
// first: the users a cut list keeps.
func mostFailedFirst(a, b analyzer.User) int {
	return cmp.Compare(b.Failed+b.Abandoned, a.Failed+a.Abandoned)
}

// cutUsers keeps users whole when there are no more than n, in the report's
// order; else the n with the most failed and abandoned handshakes, most
// first (ties in the report's order), and how many were left out. users is
// not changed.
func cutUsers(users []analyzer.User, n int) (rows []analyzer.User, omitted int) {
	if len(users) <= n {
		return users, 0
	}
	rows = slices.Clone(users)
	slices.SortStableFunc(rows, mostFailedFirst)
	return rows[:n], len(users) - n
}

// findingCut is a report's finding list as a format for people shows it:
// the first few findings of each code, and for each code that had more,
// how many were left out. A balancer that breaks NTLM leaves one finding
// per broken handshake, thousands of the same code, and a reader needs a
// few of each to open in Wireshark.
type findingCut struct {
	// Rows are the findings kept, in the report's order.
	Rows []analyzer.Finding
	// Cut lists the codes with findings left out, in the order the codes
	// first appear in the report.
	Cut []codeCut
}

// codeCut counts the findings of one code left out.
type codeCut struct {
	Code string
	More int
}

// cutPerCode keeps the first perCode findings of each code of findings.
// When nothing is cut the rows are findings itself, not a copy.
func cutPerCode(findings []analyzer.Finding, perCode int) findingCut {
	counts := map[string]int{}
	var order []string
	for _, f := range findings {
		if counts[f.Code] == 0 {
			order = append(order, f.Code)
		}
		counts[f.Code]++
	}
	var cut []codeCut
	for _, code := range order {
		if n := counts[code]; n > perCode {
			cut = append(cut, codeCut{Code: code, More: n - perCode})
		}
	}
	if cut == nil {
		return findingCut{Rows: findings}
	}
	rows := make([]analyzer.Finding, 0, min(len(findings), len(order)*perCode))
	kept := map[string]int{}
	for _, f := range findings {
		if kept[f.Code] < perCode {
			kept[f.Code]++
			rows = append(rows, f)
		}
	}
	return findingCut{Rows: rows, Cut: cut}
}
