package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// TestRenderEmptyReports: a report with nothing in it (an empty capture,
// or a model whose lists are nil) renders in every format.
func TestRenderEmptyReports(t *testing.T) {
	empty := baseReport(0, time.Time{}, time.Time{})
	empty.Verdict.Code, empty.Verdict.Title = analyzer.VerdictNoNTLM, analyzer.VerdictTitles[analyzer.VerdictNoNTLM]
	for name, r := range map[string]*analyzer.Report{"empty": empty, "zero": {}} {
		for _, format := range Formats() {
			for _, table := range csvTablesFor(format) {
				if out := render(t, format, Options{CSVTable: table, Anonymize: true}, r); len(out) == 0 {
					t.Errorf("%s %s %s: no output", name, format, table)
				}
			}
		}
	}
}

// bigReport has n connections of 10 exchanges each, one handshake per
// connection, every third one failed.
func bigReport(n int) *analyzer.Report {
	r := balancerReport()
	tmpl := r.Connections[1]
	r.Connections = nil
	for i := range n {
		c := tmpl
		c.ID, c.TCPStream = i, i
		c.Start, c.End = at(i*10), at(i*10+9)
		h := hs(i+1, "alice", "web01.corp.example", analyzer.OutcomeSucceeded, []int{i}, int64(i*30), i*10, 200)
		if i%3 == 0 {
			h.Outcome = analyzer.OutcomeFailed
		}
		c.Handshakes = []analyzer.Handshake{h}
		c.Exchanges = nil
		for j := range 10 {
			c.Exchanges = append(c.Exchanges, ex("GET", "/x", "NTLM type1", 401, "NTLM type2", int64(i*30+2*j), i*10+j, 0))
		}
		if i%3 != 0 {
			c.Findings = []string{}
		}
		r.Connections = append(r.Connections, c)
	}
	r.Source.LastSeen = at(n * 10)
	return r
}

// TestHTMLCapsLargeReports: a capture with thousands of connections gives
// a page of bounded size: ldMax ladders, tlMaxRows timeline rows, and in
// the connection table those with findings, at most htmlMaxConnections
// (TestHTMLCaps checks the cuts in detail).
func TestHTMLCapsLargeReports(t *testing.T) {
	r := bigReport(3000)
	start := time.Now()
	page := render(t, "html", Options{}, r)
	t.Logf("3000 connections: %d KiB of HTML in %v", len(page)/1024, time.Since(start))
	if n := bytes.Count(page, []byte(`class="ladder-svg"`)); n != ldMax {
		t.Errorf("%d ladders, want %d", n, ldMax)
	}
	if n := bytes.Count(page, []byte(`<rect class="bar`)); n != tlMaxRows {
		t.Errorf("%d timeline rows, want %d", n, tlMaxRows)
	}
	if !strings.Contains(string(page), "2900 more connections are in the connection table") ||
		!strings.Contains(string(page), "2600 connections not drawn") {
		t.Error("the page does not say what it left out")
	}
	if len(page) > 12<<20 {
		t.Errorf("%d MiB of HTML", len(page)>>20)
	}
}
