package lab

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// analyze runs files through ntlmscope's pipeline, as `ntlmscope analyze
// --format json FILE…` does.
func analyze(t *testing.T, files []string) *analyzer.Report {
	t.Helper()
	src, err := reassembly.OpenFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	an := analyzer.New(analyzer.Options{Files: files})
	if _, err := reassembly.Run(src, an, reassembly.Options{}); err != nil {
		t.Fatal(err)
	}
	return an.Finish(src.Stats())
}

// checkReports analyses every view of s and checks the report against the
// scenario's expectations.
func checkReports(t *testing.T, s *Scenario, files func(View) []string) {
	for _, v := range s.Views() {
		t.Run(string(v), func(t *testing.T) {
			want, ok := s.Expect[v]
			if !ok {
				t.Fatalf("scenario %s declares no expectation for the %s view", s.Name, v)
			}
			rep := analyze(t, files(v))
			checkReport(t, rep, want)
			// Shown on failure, and with go test -v.
			t.Logf("report on %s:\n%s", strings.Join(files(v), " + "), describe(rep))
		})
	}
}

// checkReport compares one report with one view's expectations.
func checkReport(t *testing.T, rep *analyzer.Report, want Expect) {
	t.Helper()
	if rep.Verdict.Code != want.Verdict {
		t.Errorf("verdict %q, want %q", rep.Verdict.Code, want.Verdict)
	}
	codes := findingCodes(rep)
	for _, c := range want.Findings {
		if !slices.Contains(codes, c) {
			t.Errorf("finding %s missing (findings: %v)", c, codes)
		}
	}
	for _, c := range append(slices.Clone(want.Absent), neverInLab...) {
		if slices.Contains(codes, c) {
			t.Errorf("finding %s present, the truth says otherwise (findings: %v)", c, codes)
		}
	}
	// The lab's captures are complete: a gap or a missed SYN is the lab's
	// fault (tcpdump lost packets), not ntlmscope's.
	if src := rep.Source; src.Gaps != 0 || src.MidstreamConnections != 0 || src.Truncated != 0 {
		t.Errorf("capture incomplete: %d gaps, %d mid-stream connections, %d truncated segments",
			src.Gaps, src.MidstreamConnections, src.Truncated)
	}
	if want.Verdict == verdictHealthy {
		for _, f := range rep.Findings {
			if f.Severity == analyzer.SeverityError || f.Severity == analyzer.SeverityCritical {
				t.Errorf("healthy traffic has %s finding %s: %s", f.Severity, f.Code, f.Message)
			}
		}
	}
	got := reportUsers(rep)
	if !slices.Equal(got, want.Users) {
		t.Errorf("users:\n got  %v\n want %v", got, want.Users)
	}
	var total UserCounts
	for _, u := range want.Users {
		total.Handshakes += u.Handshakes
		total.Succeeded += u.Succeeded
		total.Failed += u.Failed
		total.AuthenticatedRequests += u.AuthenticatedRequests
	}
	sum := rep.Summary
	if sum.Handshakes != total.Handshakes || sum.HandshakesSucceeded != total.Succeeded ||
		sum.HandshakesFailed != total.Failed || sum.HandshakesAbandoned != 0 || sum.HandshakesIncomplete != 0 ||
		sum.AuthenticatedRequests != total.AuthenticatedRequests {
		t.Errorf("summary: %d handshakes (%d ok, %d failed, %d abandoned, %d incomplete), %d authenticated requests; "+
			"want %d (%d ok, %d failed, 0 abandoned, 0 incomplete), %d",
			sum.Handshakes, sum.HandshakesSucceeded, sum.HandshakesFailed, sum.HandshakesAbandoned, sum.HandshakesIncomplete,
			sum.AuthenticatedRequests, total.Handshakes, total.Succeeded, total.Failed, total.AuthenticatedRequests)
	}
}

// neverInLab are findings no lab scenario may produce: every client answers
// every Type 2 it gets.
var neverInLab = []string{analyzer.CodeClientAbandonedHandshake}

// findingCodes lists the report's finding codes, each once.
func findingCodes(rep *analyzer.Report) []string {
	var codes []string
	for _, f := range rep.Findings {
		if !slices.Contains(codes, f.Code) {
			codes = append(codes, f.Code)
		}
	}
	slices.Sort(codes)
	return codes
}

// reportUsers returns report.users[] as UserCounts, "(unknown)" (handshakes
// no Type 3 attributes) included.
func reportUsers(rep *analyzer.Report) []UserCounts {
	out := []UserCounts{}
	for _, u := range rep.Users {
		out = append(out, UserCounts{User: u.Name, Handshakes: u.Handshakes, Succeeded: u.Succeeded,
			Failed: u.Failed, Abandoned: u.Abandoned, AuthenticatedRequests: u.AuthenticatedRequests})
	}
	return out
}

// describe summarises a report for a failure message: verdict, findings,
// users, connections.
func describe(rep *analyzer.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  verdict %s: %s\n", rep.Verdict.Code, rep.Verdict.Explanation)
	fmt.Fprintf(&b, "  causes %v; summary %+v\n", rep.Verdict.Causes, rep.Summary)
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  finding %s (%s) streams %v frames %v: %s\n", f.Code, f.Severity, f.TCPStreams, f.Frames, f.Message)
	}
	for _, u := range rep.Users {
		fmt.Fprintf(&b, "  user %s: %d handshakes, %d ok, %d failed, %d abandoned, %d incomplete, %d authenticated requests\n",
			u.Name, u.Handshakes, u.Succeeded, u.Failed, u.Abandoned, u.Incomplete, u.AuthenticatedRequests)
	}
	for _, c := range rep.Connections {
		fmt.Fprintf(&b, "  conn %d file %d stream %d %s→%s leg %s linked %v state %s statuses %v findings %v\n",
			c.ID, c.File, c.TCPStream, c.Client, c.Server, c.Leg, c.Linked, c.State, c.Statuses, c.Findings)
		for _, h := range c.Handshakes {
			fmt.Fprintf(&b, "    handshake %d %s user %s server %q outcome %s cause %s evidence %s frames %+v conns %v\n",
				h.ID, h.Scheme, h.User, h.ServerIdentity, h.Outcome, h.Cause, h.Evidence, h.Frames, h.Connections)
		}
	}
	return b.String()
}
