package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// verdictCodes lists the verdict codes for help texts.
const verdictCodes = analyzer.VerdictNoNTLM + ", " + analyzer.VerdictHealthy + ", " + analyzer.VerdictBalancer + ", " +
	analyzer.VerdictClient + ", " + analyzer.VerdictCredentials + ", " + analyzer.VerdictMixed + ", " +
	analyzer.VerdictInconclusive

// verdictCodesWrapped is verdictCodes wrapped for the help text.
const verdictCodesWrapped = analyzer.VerdictNoNTLM + ", " + analyzer.VerdictHealthy + ", " + analyzer.VerdictBalancer + ",\n" +
	"         " + analyzer.VerdictClient + ", " + analyzer.VerdictCredentials + ", " + analyzer.VerdictMixed + ", " +
	analyzer.VerdictInconclusive

// severities in increasing order: a --fail-on severity matches findings of
// that severity or any later one.
var severities = []string{analyzer.SeverityInfo, analyzer.SeverityWarning, analyzer.SeverityError, analyzer.SeverityCritical}

// failOn is a parsed --fail-on list: the report matches when its verdict
// is one of verdicts, or a finding has one of codes, or a finding is at
// least as severe as minSeverity.
type failOn struct {
	verdicts    []string
	codes       []string
	minSeverity int // index into severities; -1: none asked
}

// parseFailOn checks every value against the analyzer's own lists, so a
// misspelt code is a usage error rather than a check that never fires.
func parseFailOn(values []string) (*failOn, error) {
	f := &failOn{minSeverity: -1}
	for _, raw := range values {
		v := strings.TrimSpace(raw)
		switch {
		case v == "":
			continue
		case slices.Contains(severities, strings.ToLower(v)):
			i := slices.Index(severities, strings.ToLower(v))
			if f.minSeverity < 0 || i < f.minSeverity {
				f.minSeverity = i
			}
		case analyzer.VerdictTitles[strings.ToLower(v)] != "":
			f.verdicts = append(f.verdicts, strings.ToLower(v))
		case analyzer.Codes[strings.ToUpper(v)].Title != "":
			f.codes = append(f.codes, strings.ToUpper(v))
		default:
			return nil, fmt.Errorf("unknown --fail-on value %q: use a verdict code (%s), a finding code such as %s, "+
				"or a severity (%s)", raw, verdictCodes, analyzer.CodeType3RoutedToOtherBackend, strings.Join(severities, ", "))
		}
	}
	return f, nil
}

// match reports whether r matches, and says why in words for the error
// message. It reads only the verdict and the findings, never the
// connections, so a streaming report costs nothing more here.
func (f *failOn) match(r *analyzer.Report) (string, bool) {
	if slices.Contains(f.verdicts, r.Verdict.Code) {
		return "verdict " + r.Verdict.Code, true
	}
	for _, fd := range r.Findings {
		if slices.Contains(f.codes, fd.Code) {
			return "finding " + fd.Code, true
		}
	}
	if f.minSeverity >= 0 {
		for _, fd := range r.Findings {
			if i := slices.Index(severities, fd.Severity); i >= f.minSeverity {
				return fmt.Sprintf("finding %s is %s (--fail-on %s or worse)", fd.Code, fd.Severity, severities[f.minSeverity]), true
			}
		}
	}
	return "", false
}
