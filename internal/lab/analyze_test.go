package lab

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// analyze runs files through ntlmscope's pipeline, as `ntlmscope analyze
// --format json [--keylog KEYLOG]… FILE…` does.
func analyze(t *testing.T, files []string, keyLogs ...string) *analyzer.Report {
	t.Helper()
	return analyzeTLS(t, files, keyLogs).rep
}

// analysis is a report and what the reassembler said about TLS, which the
// report model does not carry per connection.
type analysis struct {
	rep   *analyzer.Report
	stats reassembly.StreamStats
	// decrypted holds the connections decrypted with a key log secret,
	// and what they negotiated.
	decrypted map[connKey]tlsParams
	// tlsTunnels counts the connections whose CONNECT tunnel carried TLS
	// (the reassembler's TLS count is of connections that were TLS from
	// their first byte).
	tlsTunnels int64
}

// tlsParams is what a decrypted connection negotiated, for the test log.
type tlsParams struct{ version, suite uint16 }

// String prints them as Wireshark does, in hex.
func (p tlsParams) String() string {
	return fmt.Sprintf("version %#04x suite %#04x", p.version, p.suite)
}

// connKey names a connection as report.connections[] does.
type connKey struct{ file, stream int }

// analyzeTLS is analyze, keeping the reassembler's TLS accounts. A key
// log that does not load fails the test: the lab writes its own.
func analyzeTLS(t *testing.T, files, keyLogs []string) analysis {
	t.Helper()
	var opts reassembly.Options
	if len(keyLogs) > 0 {
		keys, err := reassembly.LoadKeyLogs(keyLogs...)
		if err != nil {
			t.Fatal(err)
		}
		if st := keys.Stats(); st.BadLines != 0 || st.Secrets == 0 {
			t.Fatalf("key logs %v: %d secrets, %d bad lines %v", keyLogs, st.Secrets, st.BadLines, st.Warnings)
		}
		opts.KeyLog = keys
	}
	src, err := reassembly.OpenFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w := &decryptWatch{Analyzer: analyzer.New(analyzer.Options{Files: files}), decrypted: map[connKey]tlsParams{}}
	stats, err := reassembly.Run(src, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	return analysis{rep: w.Finish(src.Stats()), stats: stats, decrypted: w.decrypted, tlsTunnels: w.tlsTunnels}
}

// decryptWatch hands the reassembler's events to the analyzer and notes
// which connections were decrypted.
type decryptWatch struct {
	*analyzer.Analyzer
	mu         sync.Mutex
	decrypted  map[connKey]tlsParams
	tlsTunnels int64
}

// ConnectionClosed implements reassembly.Handler.
func (w *decryptWatch) ConnectionClosed(c *reassembly.Conn) {
	if c.Tunnel == reassembly.ProtoTLS {
		w.mu.Lock()
		w.tlsTunnels++
		w.mu.Unlock()
	}
	if c.Decrypted {
		var p tlsParams
		if c.TLS != nil {
			p = tlsParams{c.TLS.Version, c.TLS.CipherSuite}
		}
		w.mu.Lock()
		w.decrypted[connKey{c.File, c.Stream}] = p
		w.mu.Unlock()
	}
	w.Analyzer.ConnectionClosed(c)
}

// checkReports analyses every view of s and checks the report against the
// scenario's expectations. A client leg's key log is found next to its
// capture (keyLogOf); an HTTPS scenario's views must also show the client
// leg decrypted (checkDecrypted), and the captures are checked without
// the key log too (checkWithoutKeyLog).
func checkReports(t *testing.T, s *Scenario, files func(View) []string) {
	for _, v := range s.Views() {
		t.Run(string(v), func(t *testing.T) {
			want, ok := s.Expect[v]
			if !ok {
				t.Fatalf("scenario %s declares no expectation for the %s view", s.Name, v)
			}
			keys := viewKeyLogs(s, v, files)
			if s.TLS() && (v != ViewUpstream || s.BackendTLS) && len(keys) == 0 {
				t.Fatalf("no key log next to %v: the client leg of %s is TLS", files(v), s.Name)
			}
			a := analyzeTLS(t, files(v), keys)
			rep := a.rep
			checkReport(t, rep, want)
			if s.TLS() {
				checkDecrypted(t, s, v, a)
			}
			// Shown on failure, and with go test -v.
			t.Logf("report on %s:\n%s", strings.Join(files(v), " + "), describe(rep))
		})
	}
	if s.TLS() {
		t.Run("https-without-keylog", func(t *testing.T) { checkWithoutKeyLog(t, s, files) })
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
	tunnels := 0
	for _, c := range rep.Connections {
		if c.Tunnel != "" {
			tunnels++
			if c.Tunnel != want.Tunnel {
				t.Errorf("connection %d: tunnel %q, want %q", c.ID, c.Tunnel, want.Tunnel)
			}
		}
	}
	if want.Tunnel != "" && tunnels == 0 {
		t.Errorf("no connection says its tunnel carried %q", want.Tunnel)
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

// viewKeyLogs returns the key logs a view is read with: those next to its
// captures (the client leg's), and for the upstream leg of a proxy that
// relays the clients' TLS to HTTPS backends, the client leg's, which hold
// the secrets of the same sessions.
func viewKeyLogs(s *Scenario, v View, files func(View) []string) []string {
	if v == ViewUpstream && s.BackendTLS {
		return keyLogsFor(files(ViewClient))
	}
	return keyLogsFor(files(v))
}
