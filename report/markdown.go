package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// markdownRenderer writes a ticket-ready report in CommonMark with GFM
// tables: everything a support engineer needs to act on (verdict, affected
// users, time range, backends, strongest evidence with its Wireshark
// filter, the remedy) comes before the first section heading, so it shows
// without scrolling in a ticket; the details follow.
//
// A ticket is no database: without verbose, the long lists are cut (see
// mdMaxRows and mdMaxPerCode) and say how much they left out; the JSON
// report carries every row.
type markdownRenderer struct{ verbose bool }

const (
	// mdMaxRows caps the user, backend and connection tables.
	mdMaxRows = 100
	// mdMaxPerCode caps the findings listed per code: a capture where a
	// balancer breaks NTLM has one per broken handshake, thousands of
	// the same, and a reader needs a few of each to open in Wireshark.
	mdMaxPerCode = 10
)

func (md markdownRenderer) render(w io.Writer, r *model) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	p := &printer{w: bw}
	g := newGlance(r)
	p.line("# NTLM diagnosis: " + mdText(g.Title))
	p.line("")
	p.line(fmt.Sprintf("**Verdict: %s.** (`%s`)", mdText(g.Title), g.Code))
	p.line("")
	p.line("| | |")
	p.line("|---|---|")
	p.line("| **Affected users** | " + mdText(affectedText(g)) + " |")
	p.line("| **Time range** | " + mdText(g.Range) + " |")
	p.line("| **Backends involved** | " + mdText(backendsText(g)) + " |")
	p.line("| **Strongest evidence** | " + evidenceCell(g) + " |")
	if len(g.Remedies) > 0 {
		p.line("| **Remedy** | " + mdText(g.Remedies[0]) + " |")
	}
	p.line("")
	if g.Explanation != "" {
		p.line(mdText(g.Explanation))
		p.line("")
	}
	if len(g.Remedies) > 0 {
		p.line("## What to do")
		p.line("")
		for i, rem := range g.Remedies {
			p.line(fmt.Sprintf("%d. %s", i+1, mdText(rem)))
		}
		p.line("")
	}
	rows := limit(mdMaxRows, md.verbose)
	mdEvidence(p, r, limit(mdMaxPerCode, md.verbose))
	mdUsers(p, r, rows)
	mdBackends(p, r, rows)
	mdConnections(p, r, rows)
	mdCapture(p, r)
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

// affectedText lists the affected users with their failed-handshake
// counts (or, when none failed, says so).
func affectedText(g glance) string {
	if len(g.Affected) == 0 {
		return "none (no NTLM user identified)"
	}
	parts := make([]string, 0, len(g.Affected))
	for _, u := range g.Affected {
		if g.AnyFailed {
			parts = append(parts, u.Name+": "+failedOf(u.Failed, u.Abandoned, u.Handshakes, "handshake"))
		} else {
			parts = append(parts, fmt.Sprintf("%s: %s, none failed", u.Name, plural(u.Handshakes, "handshake")))
		}
	}
	s := strings.Join(parts, "; ") + more(g.AffectedMore)
	if !g.AnyFailed {
		s = "none failed — " + s
	}
	return s
}

func backendsText(g glance) string {
	if len(g.Backends) == 0 {
		return "none identified"
	}
	parts := make([]string, 0, len(g.Backends))
	for _, b := range g.Backends {
		parts = append(parts, backendText(b))
	}
	return strings.Join(parts, "; ") + more(g.BackendsMore)
}

// evidenceCell writes the strongest evidence for the summary table: code,
// message, then the filter as code so it can be copied into Wireshark.
func evidenceCell(g glance) string {
	f := g.Evidence
	if f == nil {
		return "none: no finding"
	}
	s := fmt.Sprintf("`%s` (%s): %s", f.Code, f.Severity, mdText(f.Message))
	if g.Filter != "" {
		s += fmt.Sprintf(" — Wireshark filter `%s`%s%s", strings.ReplaceAll(g.Filter, "|", `\|`), more(g.FilterMore), mdText(fileNote(g.File)))
	}
	if len(f.Frames) > 0 {
		s += ", frames " + findingFrames(g.labels, f, 8)
	}
	return s
}

// mdEvidence writes the counts and the findings, at most perCode of each
// code.
func mdEvidence(p *printer, r *model, perCode int) {
	s := r.Summary
	p.line("## Evidence")
	p.line("")
	p.line(fmt.Sprintf("- %d NTLM handshakes: %d succeeded, %d failed, %d abandoned, %d incomplete; %d split across connections.",
		s.Handshakes, s.HandshakesSucceeded, s.HandshakesFailed, s.HandshakesAbandoned, s.HandshakesIncomplete, s.HandshakesSplit))
	p.line(fmt.Sprintf("- %d HTTP connections (%d with NTLM), %d requests, %d responses; %d upstream connections.",
		s.Connections, s.NTLMConnections, s.HTTPRequests, s.HTTPResponses, s.UpstreamConnections))
	if causes := causeText(r.Verdict.Causes); causes != "" {
		p.line("- Causes of failed and abandoned handshakes: " + causes + ".")
	}
	if s.ChallengesNotCaptured > 0 || s.KerberosExchanges > 0 {
		p.line(fmt.Sprintf("- %d Type 3 messages answer challenges the capture lost; %d Kerberos exchanges (not analysed).",
			s.ChallengesNotCaptured, s.KerberosExchanges))
	}
	p.line("")
	if len(r.Findings) == 0 {
		p.line("No findings.")
		p.line("")
		return
	}
	p.line("### Findings")
	p.line("")
	findings := cutPerCode(r.Findings, perCode)
	for _, f := range findings.Rows {
		p.line(fmt.Sprintf("- **%s** `%s` (%s, %d×, first at %s): %s", mdText(f.Title), f.Code, f.Severity, f.Count,
			timeText(f.Time), mdText(f.Message)))
		filter, left, file := evidenceWhere(r.labels, &f, len(f.TCPStreams))
		var where []string
		if filter != "" {
			where = append(where, fmt.Sprintf("Wireshark: `%s`%s%s", filter, more(left), mdText(fileNote(file))))
		}
		if len(f.Frames) > 0 {
			where = append(where, "frames "+findingFrames(r.labels, &f, 20))
		}
		if len(f.Connections) > 0 {
			where = append(where, "connections "+intList(f.Connections))
		}
		if len(f.Users) > 0 {
			where = append(where, "users "+mdText(strings.Join(f.Users, ", ")))
		}
		if len(where) > 0 {
			p.line("  " + strings.Join(where, " · "))
		}
	}
	for _, c := range findings.Cut {
		p.line(fmt.Sprintf("- … and %d more `%s` findings (--verbose lists every one; the JSON report has everything)",
			c.More, c.Code))
	}
	p.line("")
}

// causeText writes the cause counts in a fixed order, zeros left out.
func causeText(causes map[string]int) string {
	var parts []string
	for _, c := range []string{analyzer.CauseBalancer, analyzer.CauseClient, analyzer.CauseCredentials, analyzer.CauseUnknown} {
		if causes[c] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, causes[c]))
		}
	}
	return strings.Join(parts, ", ")
}
