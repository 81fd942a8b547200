package analyzer

import (
	"maps"
	"slices"
)

// label is one of the few strings a handshake records about itself (an
// outcome, a cause, an evidence code), kept as one byte: an index of
// labelNames. The analyzer keeps a handshake for every one of the capture,
// and three strings would take 48 bytes of each.
type label uint8

// Labels used by value; the others are looked up by name (labelOf).
const (
	noLabel label = iota
	labelSucceeded
	labelFailed
	labelAbandoned
	labelIncomplete
)

// labelNames lists every label: "", the outcomes (in the order of the
// constants above), the causes, the evidence names and the finding codes.
// labelIDs indexes it.
var labelNames, labelIDs = func() ([]string, map[string]label) {
	names := []string{"", OutcomeSucceeded, OutcomeFailed, OutcomeAbandoned, OutcomeIncomplete,
		CauseBalancer, CauseClient, CauseCredentials, CauseUnknown,
		EvidenceChallengeNotCaptured, EvidenceResponseNotCaptured, EvidenceType3NotCaptured, EvidenceType3Unanswered}
	names = append(names, slices.Sorted(maps.Keys(Codes))...)
	if len(names) > 256 {
		panic("analyzer: more labels than a label holds")
	}
	ids := make(map[string]label, len(names))
	for i, n := range names {
		if _, ok := ids[n]; !ok {
			ids[n] = label(i)
		}
	}
	return names, ids
}()

// String returns the label's text ("" for labelNone).
func (l label) String() string { return labelNames[l] }

// labelOf returns the label of s, which must be one of the constants
// labelNames lists: the analyzer only ever records those, so another string
// is a bug, not input.
func labelOf(s string) label {
	l, ok := labelIDs[s]
	if !ok {
		panic("analyzer: no label for " + s)
	}
	return l
}
