package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// capReport has more users, connections with findings and findings of one
// code than the table format lists without --verbose.
func capReport() *analyzer.Report {
	r := &analyzer.Report{Schema: analyzer.Schema, Verdict: analyzer.Verdict{Code: analyzer.VerdictBalancer, Title: "t"}}
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for i := 0; i < 70; i++ {
		u := analyzer.User{Name: fmt.Sprintf(`CORP\user%02d`, i), Handshakes: 3, Failed: i % 3}
		for j := 0; j < 20; j++ {
			u.Clients = append(u.Clients, fmt.Sprintf("10.0.%d.%d", i, j))
			u.ConnectionIDs = append(u.ConnectionIDs, i*100+j)
		}
		r.Users = append(r.Users, u)
		r.Connections = append(r.Connections, analyzer.Connection{ID: i, TCPStream: i, Client: "10.0.0.1:1", Server: "10.0.0.2:80",
			Leg: analyzer.LegClient, State: analyzer.StateUnauthenticated, Findings: []string{analyzer.CodeAuthFailed}})
		r.Findings = append(r.Findings, analyzer.Finding{Code: analyzer.CodeAuthFailed, Severity: "warning", Count: 1,
			Connections: []int{i}, TCPStreams: []int{i}, Time: t0.Add(time.Duration(i) * time.Second), Message: fmt.Sprintf("finding %d", i)})
	}
	return r
}

// TestTableCaps: without --verbose a large report's tables are cut, the
// users kept are those with the most failures, and every cut is said;
// with --verbose everything is listed.
func TestTableCaps(t *testing.T) {
	show := func(verbose bool) string {
		return string(render(t, "table", Options{Verbose: verbose}, capReport()))
	}
	cut := show(false)
	for _, want := range []string{
		"Users (the 50 of 70 with the most failed or abandoned handshakes)",
		"... and 20 more users (--verbose",
		"... and 20 more connections (--verbose",
		"... and 60 more AUTH_FAILED findings (--verbose",
		"(+12 more)", // clients of a user
		"(+8 more)",  // connection ids of a user
	} {
		if !strings.Contains(cut, want) {
			t.Errorf("table without --verbose lacks %q", want)
		}
	}
	if strings.Contains(cut, `CORP\user12 `) || !strings.Contains(cut, `CORP\user68 `) {
		t.Error("the users kept should be those with failures first (user68 failed twice, user12 never, and 46 others failed)")
	}
	if strings.Contains(cut, "finding 10 ") || !strings.Contains(cut, "finding 9 ") {
		t.Error("findings of one code should be cut after the first 10")
	}
	full := show(true)
	if strings.Contains(full, "more users") || strings.Contains(full, "more AUTH_FAILED") || !strings.Contains(full, "finding 69") ||
		!strings.Contains(full, `CORP\user00`) || !strings.Contains(full, "10.0.69.19") {
		t.Error("--verbose should list everything")
	}
}

// TestMarkdownCaps: without --verbose the Markdown lists 10 findings per
// code, 100 connections with findings and 100 users, and says what it
// left out of each; a code with fewer findings is whole; --verbose lists everything.
func TestMarkdownCaps(t *testing.T) {
	r := capReport()
	for i := 70; i < 130; i++ {
		r.Connections = append(r.Connections, analyzer.Connection{ID: i, TCPStream: i, Client: "10.0.0.1:1", Server: "10.0.0.2:80",
			Leg: analyzer.LegClient, State: analyzer.StateUnauthenticated, Findings: []string{analyzer.CodeAuthFailed}})
	}
	for i := 70; i < 110; i++ {
		r.Users = append(r.Users, analyzer.User{Name: fmt.Sprintf(`CORP\user%03d`, i), Handshakes: 1})
	}
	for i := range 4 {
		r.Findings = append(r.Findings, analyzer.Finding{Code: analyzer.CodeHandshakeRestarted, Severity: "warning", Count: 1,
			Connections: []int{i}, TCPStreams: []int{i}, Time: r.Findings[0].Time, Message: fmt.Sprintf("restart %d", i)})
	}
	show := func(verbose bool) string {
		return string(render(t, "markdown", Options{Verbose: verbose}, r))
	}
	cut := show(false)
	for _, want := range []string{
		"- … and 60 more `AUTH_FAILED` findings (--verbose lists every one",
		"(30 more connections: --verbose lists every one",
		"(10 more users: --verbose lists every one",
		"finding 9\n", "restart 3\n",
	} {
		if !strings.Contains(cut, want) {
			t.Errorf("markdown without --verbose lacks %q", want)
		}
	}
	if strings.Contains(cut, "finding 10\n") || strings.Contains(cut, "more `HANDSHAKE_RESTARTED`") {
		t.Error("AUTH_FAILED findings should be cut after the first 10, and the 4 HANDSHAKE_RESTARTED kept whole")
	}
	full := show(true)
	if strings.Contains(full, "more `AUTH_FAILED`") || strings.Contains(full, "more connections") ||
		strings.Contains(full, "more users") || !strings.Contains(full, "finding 69\n") ||
		!strings.Contains(full, "| 129 |") || !strings.Contains(full, `| CORP\user109 |`) {
		t.Error("--verbose should list every finding, connection and user")
	}
}
