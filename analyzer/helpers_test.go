package analyzer

import (
	"slices"
	"testing"
)

// codes lists a report's finding codes (sorted, without repeats).
func codes(r *Report) []string {
	var cs []string
	for _, f := range r.Findings {
		cs = append(cs, f.Code)
	}
	slices.Sort(cs)
	return slices.Compact(cs)
}

func hasCode(r *Report, code string) bool { return slices.Contains(codes(r), code) }

// findUser returns the named user's aggregate.
func findUser(t *testing.T, r *Report, name string) User {
	t.Helper()
	for _, u := range r.Users {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("no user %q in %v", name, userNames(r))
	return User{}
}

func userNames(r *Report) []string {
	var ns []string
	for _, u := range r.Users {
		ns = append(ns, u.Name)
	}
	return ns
}

// expect checks a report's verdict and the presence and absence of codes.
type expect struct {
	verdict string
	has     []string
	hasNot  []string
	causes  map[string]int
}

func (e expect) check(t *testing.T, r *Report) {
	t.Helper()
	if e.verdict != "" && r.Verdict.Code != e.verdict {
		t.Errorf("verdict = %s, want %s\n%s\nfindings: %v", r.Verdict.Code, e.verdict, r.Verdict.Explanation, codes(r))
	}
	for _, c := range e.has {
		if !hasCode(r, c) {
			t.Errorf("finding %s missing; have %v", c, codes(r))
		}
	}
	for _, c := range e.hasNot {
		if hasCode(r, c) {
			t.Errorf("finding %s present; have %v", c, codes(r))
		}
	}
	for k, n := range e.causes {
		if r.Verdict.Causes[k] != n {
			t.Errorf("causes[%s] = %d, want %d (%v)", k, r.Verdict.Causes[k], n, r.Verdict.Causes)
		}
	}
}

// findingMessage returns the message of r's first finding with code, or
// "".
func findingMessage(r *Report, code string) string {
	for _, f := range r.Findings {
		if f.Code == code {
			return f.Message
		}
	}
	return ""
}
