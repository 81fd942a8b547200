package analyzer

import "testing"

// TestLabels checks that every outcome, cause, evidence name and finding
// code has a label, which reads back as itself.
func TestLabels(t *testing.T) {
	names := []string{OutcomeSucceeded, OutcomeFailed, OutcomeAbandoned, OutcomeIncomplete,
		CauseBalancer, CauseClient, CauseCredentials, CauseUnknown,
		EvidenceChallengeNotCaptured, EvidenceResponseNotCaptured, EvidenceType3NotCaptured, ""}
	for code := range Codes {
		names = append(names, code)
	}
	for _, n := range names {
		if got := labelOf(n).String(); got != n {
			t.Errorf("label of %q reads %q", n, got)
		}
	}
	for l, want := range map[label]string{noLabel: "", labelSucceeded: OutcomeSucceeded, labelFailed: OutcomeFailed,
		labelAbandoned: OutcomeAbandoned, labelIncomplete: OutcomeIncomplete} {
		if l.String() != want {
			t.Errorf("label %d is %q, want %q", l, l, want)
		}
	}
}
