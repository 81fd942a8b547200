package main

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/ntlm"
	"github.com/ntlmscope/ntlmscope/reassembly"
	"github.com/ntlmscope/ntlmscope/report"
)

// nopHandler ignores events.
type nopHandler struct{}

func (nopHandler) ConnectionOpened(*reassembly.Conn)                                   {}
func (nopHandler) Request(*reassembly.Conn, *reassembly.Message)                       {}
func (nopHandler) Response(*reassembly.Conn, *reassembly.Message, *reassembly.Message) {}
func (nopHandler) ConnectionClosed(*reassembly.Conn)                                   {}

func authRequest(header, scheme string, token []byte) *reassembly.Message {
	return &reassembly.Message{Request: true, Method: "GET", Target: "/",
		Header: []reassembly.HeaderField{{Name: header, Value: scheme + " " + base64.StdEncoding.EncodeToString(token)}}}
}

func TestLiveCounterCountsLogins(t *testing.T) {
	type3 := (&ntlm.Authenticate{User: "alice", Domain: "LAB", NTResponse: make([]byte, 48)}).Marshal()
	type1 := (&ntlm.Negotiate{}).Marshal()
	l := newLiveCounter(nopHandler{})
	c1, c2 := &reassembly.Conn{ID: 1}, &reassembly.Conn{ID: 2}
	l.ConnectionOpened(c1)
	l.ConnectionOpened(c2)

	steps := []struct {
		c      *reassembly.Conn
		req    *reassembly.Message
		status int
	}{
		{c1, authRequest("Authorization", "NTLM", type1), 401},                           // Type 1: not a login yet
		{c1, authRequest("Authorization", "NTLM", type3), 200},                           // accepted
		{c2, authRequest("Proxy-Authorization", "Negotiate", type3), 407},                // rejected
		{c2, authRequest("Authorization", "Negotiate", ntlm.WrapSPNEGOInit(type3)), 401}, // SPNEGO-wrapped, rejected
		{c2, &reassembly.Message{Request: true, Method: "GET", Target: "/"}, 200},        // no credentials
	}
	for _, s := range steps {
		l.Request(s.c, s.req)
		l.Response(s.c, s.req, &reassembly.Message{Status: s.status})
	}
	if l.ok != 1 || l.fail != 2 || len(l.open) != 2 {
		t.Errorf("ok %d fail %d open %d, want 1, 2, 2", l.ok, l.fail, len(l.open))
	}
	l.ConnectionClosed(c1)
	if len(l.open) != 1 {
		t.Errorf("%d open after a close, want 1", len(l.open))
	}
}

func TestLiveStatusLineOnlyOnTTY(t *testing.T) {
	stats := func() reassembly.SourceStats {
		return reassembly.SourceStats{Packets: 1234, Bytes: 5_600_000, KernelDrops: 7}
	}
	counts := newLiveCounter(nopHandler{})
	counts.ok, counts.fail = 3, 1

	var errOut bytes.Buffer
	s := newLiveStatus(&IOStreams{ErrOut: &errOut}, stats, counts, nil)
	s.tick()
	s.clear()
	if errOut.Len() != 0 {
		t.Errorf("status written to a non-terminal: %q", errOut.String())
	}

	s = newLiveStatus(&IOStreams{ErrOut: &errOut, StderrTTY: true}, stats, counts, nil)
	s.start = time.Now().Add(-65 * time.Second)
	s.tick()
	s.tick() // too soon: not redrawn
	want := "\r\x1b[K1m5s  1234 packets, 5.6 MB, 7 DROPPED by the kernel | 0 HTTP connections open | NTLM logins: 3 accepted, 1 rejected"
	if errOut.String() != want {
		t.Errorf("status line\n %q\nwant\n %q", errOut.String(), want)
	}
	s.clear()
	if !strings.HasSuffix(errOut.String(), "\r\x1b[K") {
		t.Errorf("clear did not erase the line: %q", errOut.String())
	}
}

// TestLiveFindingsShownOnce: findings come out above the status line,
// each once (a finding whose count grew is the same finding), with a
// live_finding record on the stream; the status line counts them.
func TestLiveFindingsShownOnce(t *testing.T) {
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	failed := analyzer.Finding{Code: analyzer.CodeAuthFailed, Severity: analyzer.SeverityWarning, Connections: []int{2},
		TCPStreams: []int{5}, Count: 1, Time: at, Message: "1 handshake of alice failed"}
	grown := failed
	grown.Count, grown.Connections, grown.TCPStreams, grown.Message = 2, []int{2, 9}, []int{5, 11}, "2 handshakes of alice failed"
	noMIC := analyzer.Finding{Code: analyzer.CodeNoMIC, Severity: analyzer.SeverityInfo, Connections: []int{2},
		TCPStreams: []int{5}, Count: 1, Time: at, Message: "no MIC"}

	for _, tty := range []bool{false, true} {
		var errOut, stream bytes.Buffer
		counts := newLiveCounter(nopHandler{})
		s := newLiveStatus(&IOStreams{ErrOut: &errOut, StderrTTY: tty}, func() reassembly.SourceStats { return reassembly.SourceStats{} }, counts, nil)
		s.findings = newLiveFindings(nil, report.NewLiveWriter(&stream, report.Options{}), time.Second)
		steps := []struct {
			snap  []analyzer.Finding // nil: no new snapshot
			lines []string
		}{
			{[]analyzer.Finding{failed}, []string{"2025-03-01T09:30:00.000Z warning AUTH_FAILED: 1 handshake of alice failed (tcp.stream eq 5)"}},
			{nil, nil},
			{[]analyzer.Finding{grown}, nil},
			{[]analyzer.Finding{grown, noMIC}, []string{"2025-03-01T09:30:00.000Z info NO_MIC: no MIC (tcp.stream eq 5)"}},
		}
		for i, st := range steps {
			errOut.Reset()
			if st.snap != nil {
				s.findings.latest.Store(&analyzer.Report{Findings: st.snap})
			}
			s.drawn = time.Now() // the status line is not due: only findings redraw it
			s.tick()
			// On a terminal the status line is erased first (when one
			// is shown: not before the first), and drawn again at once.
			var want string
			if tty && len(st.lines) > 0 && i > 0 {
				want = "\r\x1b[K"
			}
			for _, l := range st.lines {
				want += l + "\n"
			}
			if tty && len(st.lines) > 0 {
				want += "\r\x1b[K" + s.line(time.Now())
			}
			got := errOut.String()
			if got != want {
				t.Errorf("tty=%v step %d: stderr\n %q\nwant\n %q", tty, i, got, want)
			}
		}
		if s.findings.count != 2 || !strings.Contains(s.line(time.Now()), "| findings so far: 2") {
			t.Errorf("count %d, line %q", s.findings.count, s.line(time.Now()))
		}
		if n := strings.Count(stream.String(), `{"type":"live_finding"`); n != 2 {
			t.Errorf("%d live_finding records, want 2:\n%s", n, stream.String())
		}
		// At the stop the final report's findings not shown yet come out.
		if lines := s.findings.final(&analyzer.Report{Findings: []analyzer.Finding{grown, noMIC}}); len(lines) != 0 {
			t.Errorf("final shows again: %q", lines)
		}
	}
}
