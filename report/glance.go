package report

import (
	"cmp"
	"iter"
	"slices"
	"strings"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// glanceMax caps the users and backends listed at the top of a report:
// the top must fit one screen; the full lists follow below it.
const glanceMax = 5

// glanceStreams caps the streams of the evidence filter shown at the top.
const glanceStreams = 4

// glance is what a reader must see before scrolling: the verdict in one
// sentence, the affected users with their failed-handshake counts, the
// time range, the backends involved, the strongest evidence with its
// Wireshark filter, and the remedy. The table, Markdown and HTML formats
// all start with it.
type glance struct {
	// labels names the capture files (analyzer.FileLabels).
	labels                   []string
	Title, Code, Explanation string
	Remedies                 []string
	Range                    string
	// Affected are the users with failed or abandoned handshakes, most
	// failures first (all users when none failed); AnyFailed says which.
	Affected     []analyzer.User
	AffectedMore int
	AnyFailed    bool
	Backends     []backendLine
	BackendsMore int
	// Evidence is the strongest finding (nil when there is none), Filter
	// its pasteable Wireshark filter naming FilterMore fewer streams than
	// it has, and File the capture it applies to when there are several.
	Evidence   *analyzer.Finding
	Filter     string
	FilterMore int
	File       string
}

// backendLine is one backend at the top of a report: its NTLM identity
// (empty when no Type 2 named it) and addresses, with handshake counts.
type backendLine struct {
	Identity                               string
	Servers                                []string
	Handshakes, Succeeded, Failed, Aborted int
}

func newGlance(r *model) glance {
	g := glance{
		Title:       r.Verdict.Title,
		Code:        r.Verdict.Code,
		Explanation: r.Verdict.Explanation,
		Remedies:    r.Verdict.Remedies,
		Range:       rangeText(r.Source.FirstSeen, r.Source.LastSeen),
		labels:      r.labels,
	}
	g.Affected, g.AnyFailed = affectedUsers(r.Users)
	if len(g.Affected) > glanceMax {
		g.Affected, g.AffectedMore = g.Affected[:glanceMax], len(g.Affected)-glanceMax
	}
	g.Backends = backendLines(r)
	if len(g.Backends) > glanceMax {
		g.Backends, g.BackendsMore = g.Backends[:glanceMax], len(g.Backends)-glanceMax
	}
	if f := strongestEvidence(r); f != nil {
		g.Evidence = f
		g.Filter, g.FilterMore, g.File = evidenceWhere(r.labels, f, glanceStreams)
	}
	return g
}

// affectedUsers returns the users with failed or abandoned handshakes,
// most first; when none failed, every user (to show who worked).
func affectedUsers(users []analyzer.User) ([]analyzer.User, bool) {
	var out []analyzer.User
	for _, u := range users {
		if u.Failed+u.Abandoned > 0 {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return slices.Clone(users), false
	}
	slices.SortStableFunc(out, func(a, b analyzer.User) int {
		return cmp.Or(cmp.Compare(b.Failed+b.Abandoned, a.Failed+a.Abandoned), strings.Compare(a.Name, b.Name))
	})
	return out, true
}

// backendLines lists the backends, most failures first. Without any
// backend identity (no Type 2 captured), the servers the NTLM connections
// went to stand in for them.
func backendLines(r *model) []backendLine {
	var out []backendLine
	for _, b := range r.Backends {
		out = append(out, backendLine{Identity: b.Identity, Servers: b.Servers, Handshakes: b.Handshakes,
			Succeeded: b.Succeeded, Failed: b.Failed, Aborted: b.Abandoned})
	}
	if len(out) == 0 {
		seen := map[string]bool{}
		for c := range r.eachConnectionBrief() {
			if len(c.Handshakes) > 0 && !seen[c.Server] {
				seen[c.Server] = true
				out = append(out, backendLine{Servers: []string{c.Server}})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b backendLine) int {
		return cmp.Compare(b.Failed+b.Aborted, a.Failed+a.Aborted)
	})
	return out
}

// strongestEvidence picks the finding the verdict rests on, by the
// analyzer's own rule (analyzer/verdict.go): among the failed and
// abandoned client-leg handshakes whose cause is the verdict's, the
// evidence code most of them cite (ties: the more severe, then by name),
// and its earliest finding; else the most severe finding of at least
// error. A healthy capture shows its most severe warning ("still worth a
// look"); captures without NTLM or with lost evidence their most severe
// finding of any level.
func strongestEvidence(r *model) *analyzer.Finding {
	floor := analyzer.SeverityError
	switch r.Verdict.Code {
	case analyzer.VerdictHealthy:
		return worstFinding(r.Findings, analyzer.SeverityWarning)
	case analyzer.VerdictNoNTLM, analyzer.VerdictInconclusive:
		return worstFinding(r.Findings, analyzer.SeverityInfo)
	}
	want := map[string]string{analyzer.VerdictBalancer: analyzer.CauseBalancer,
		analyzer.VerdictClient: analyzer.CauseClient, analyzer.VerdictCredentials: analyzer.CauseCredentials}[r.Verdict.Code]
	counts := map[string]int{}
	for h := range logicalHandshakes(r) {
		failed := h.Outcome == analyzer.OutcomeFailed || h.Outcome == analyzer.OutcomeAbandoned
		if failed && (want == "" || h.Cause == want) && h.Cause != analyzer.CauseUnknown && h.Evidence != "" {
			if _, ok := analyzer.Codes[h.Evidence]; ok {
				counts[h.Evidence]++
			}
		}
	}
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]),
			cmp.Compare(severityRank(analyzer.Codes[b].Severity), severityRank(analyzer.Codes[a].Severity)),
			strings.Compare(a, b))
	})
	for _, c := range codes {
		for i := range r.Findings {
			if r.Findings[i].Code == c {
				return &r.Findings[i]
			}
		}
	}
	return worstFinding(r.Findings, floor)
}

// worstFinding returns the earliest of the most severe findings at or above
// floor, or nil.
func worstFinding(findings []analyzer.Finding, floor string) *analyzer.Finding {
	var best *analyzer.Finding
	for i := range findings {
		f := &findings[i]
		if severityRank(f.Severity) < severityRank(floor) {
			continue
		}
		if best == nil || severityRank(f.Severity) > severityRank(best.Severity) {
			best = f
		}
	}
	return best
}

// logicalHandshakes yields each handshake once, as the summary counts
// them: on the client leg, a split handshake once (it appears on each of
// its connections). A handshake is valid until the next one is yielded.
func logicalHandshakes(r *model) iter.Seq[*analyzer.Handshake] {
	return func(yield func(*analyzer.Handshake) bool) {
		seen := map[int]bool{}
		for c := range r.eachConnectionBrief() {
			if c.Leg == analyzer.LegUpstream {
				continue
			}
			for i := range c.Handshakes {
				h := &c.Handshakes[i]
				if !h.Upstream && !seen[h.ID] {
					seen[h.ID] = true
					if !yield(h) {
						return
					}
				}
			}
		}
	}
}
