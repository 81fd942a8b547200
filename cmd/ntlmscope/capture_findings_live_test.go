//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
	"github.com/ntlmscope/ntlmscope/internal/syncbuf"
)

// inProcessCapture is captureRun running in the test's process, stopped
// by the test's own stop channel: the test can look at what it printed
// while it still runs.
type inProcessCapture struct {
	out, errOut *syncbuf.Buffer
	stop        chan struct{}
	done        chan struct{} // closed when captureRun has returned
	err         error         // captureRun's, once done
}

// startCapture parses args as `ntlmscope capture` would, shortens the
// period of the live findings, and runs the capture until it says it is
// capturing.
func startInProcess(t *testing.T, args ...string) *inProcessCapture {
	t.Helper()
	requireLive(t)
	p := &inProcessCapture{out: &syncbuf.Buffer{}, errOut: &syncbuf.Buffer{}, stop: make(chan struct{}), done: make(chan struct{})}
	ios := &IOStreams{In: strings.NewReader(""), Out: p.out, ErrOut: p.errOut}
	var opts *captureOptions
	cmd := newCmdCapture(ios, func(o *captureOptions) error { opts = o; return nil })
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	opts.stop = p.stop
	opts.findingsEvery = 200 * time.Millisecond
	go func() {
		p.err = captureRun(opts)
		close(p.done)
	}()
	t.Cleanup(p.halt)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.errOut.String(), "capturing on ") {
		select {
		case <-p.done:
			t.Fatalf("capture ended before it started: %v; stderr %s", p.err, p.errOut)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture did not start in 10 s: %s", p.errOut)
		}
	}
	return p
}

// halt stops the capture (once) and waits for it.
func (p *inProcessCapture) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// waitFor waits until stderr holds s, and fails if the capture ended first:
// what it waits for must be printed while the capture runs.
func (p *inProcessCapture) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(p.errOut.String(), s) {
		select {
		case <-p.done:
			t.Fatalf("the capture ended (%v) before stderr showed %q: %s", p.err, s, p.errOut)
		case <-deadline:
			t.Fatalf("stderr did not show %q in 10 s while capturing: %s", s, p.errOut)
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case <-p.done:
		t.Fatalf("the capture ended (%v) while the test waited for %q", p.err, s)
	default:
	}
}

// wrongPasswordServer starts the lab NTLM server on addr and returns the
// URL of a page.
func wrongPasswordServer(t *testing.T, addr, name string) (url string, port int) {
	t.Helper()
	srv, err := ntlmserver.Start(ntlmserver.Options{Name: name, Users: []ntlmserver.User{{Name: "alice", Password: "Passw0rd!"}}}, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	port = srv.Addr().(*net.TCPAddr).Port
	return fmt.Sprintf("http://%s/page", srv.Addr()), port
}

// ndjsonTypes returns the "type" of each line of an NDJSON stream, and the
// records by type.
func ndjsonTypes(t *testing.T, stream string) ([]string, map[string][]map[string]any) {
	t.Helper()
	var types []string
	byType := map[string][]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		typ, _ := rec["type"].(string)
		types = append(types, typ)
		byType[typ] = append(byType[typ], rec)
	}
	return types, byType
}

// TestCaptureLiveFindings: a wrong password during a capture on lo is
// printed on stderr, and streamed as a live_finding record on stdout with
// --format ndjson, while the capture still runs; the final report's
// records follow at the stop, and each finding is shown once.
func TestCaptureLiveFindings(t *testing.T) {
	url, port := wrongPasswordServer(t, "127.0.0.14:0", "WEB04")
	p := startInProcess(t, "-i", "lo", "--format", "ndjson", fmt.Sprintf("tcp port %d", port))
	if code := ntlmGet(t, url, "alice", "wrong"); code != 401 {
		t.Errorf("bad password: HTTP %d", code)
	}
	start := time.Now()
	p.waitFor(t, " warning AUTH_FAILED: ")
	t.Logf("finding line %v after the login", time.Since(start))
	// The record came out with the line, before the final report.
	types, recs := ndjsonTypes(t, p.out.String())
	codes := map[string]bool{}
	for _, r := range recs["live_finding"] {
		codes[fmt.Sprint(r["code"])] = true
	}
	if len(types) == 0 || len(types) != len(recs["live_finding"]) || !codes["AUTH_FAILED"] {
		t.Fatalf("stdout while capturing: %v\n%s", types, p.out)
	}
	p.halt()
	if p.err != nil {
		t.Fatalf("capture: %v\n%s", p.err, p.errOut)
	}

	stderr := p.errOut.String()
	var line string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "AUTH_FAILED") {
			if line != "" {
				t.Errorf("AUTH_FAILED printed twice:\n%s", stderr)
			}
			line = l
		}
	}
	for _, want := range []string{"handshake of alice from 127.0.0.1 failed against web04.lab.example", "(tcp.stream eq "} {
		if !strings.Contains(line, want) {
			t.Errorf("finding line %q lacks %q", line, want)
		}
	}
	types, recs = ndjsonTypes(t, p.out.String())
	if types[0] != "live_finding" || types[len(types)-1] != "summary" {
		t.Errorf("record types %v: want live_finding first, summary last", types)
	}
	if len(recs["live_finding"]) != len(recs["finding"]) {
		t.Errorf("%d live_finding records, %d findings in the report: each finding is streamed once", len(recs["live_finding"]), len(recs["finding"]))
	}
	if len(recs["finding"]) == 0 || recs["finding"][0]["code"] != "AUTH_FAILED" || len(recs["handshake"]) != 1 {
		t.Errorf("final records: %v", types)
	}
	live, final := recs["live_finding"][0], recs["finding"][0] // both sorted by time, then code
	for _, k := range []string{"code", "time", "tcp_streams", "message"} {
		if fmt.Sprint(live[k]) != fmt.Sprint(final[k]) {
			t.Errorf("%s: live %v, final %v", k, live[k], final[k])
		}
	}
}

// TestCaptureReportsAndFailOn: capture writes the --json and --html
// reports as analyze does, applies --fail-on (exit 3, reports written
// first), and --anonymize covers the live lines; -o FILE.ndjson streams
// the live records into the file as the capture goes.
func TestCaptureReportsAndFailOn(t *testing.T) {
	url, port := wrongPasswordServer(t, "127.0.0.15:0", "WEB05")
	dir := t.TempDir()
	js, html, nd := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html"), filepath.Join(dir, "r.ndjson")
	p := startInProcess(t, "-i", "lo", "--json", js, "--html", html, "-o", nd, "--fail-on", "AUTH_FAILED", "--anonymize",
		fmt.Sprintf("tcp port %d", port))
	if code := ntlmGet(t, url, "alice", "wrong"); code != 401 {
		t.Errorf("bad password: HTTP %d", code)
	}
	p.waitFor(t, " AUTH_FAILED: ")
	if b, err := os.ReadFile(nd); err != nil || !strings.Contains(string(b), `{"type":"live_finding","code":"AUTH_FAILED"`) {
		t.Errorf("%s while capturing: %v %q", nd, err, b)
	}
	p.halt()
	var fo *failOnError
	if !errors.As(p.err, &fo) || !strings.Contains(fo.reason, "AUTH_FAILED") {
		t.Fatalf("capture returned %v, want --fail-on to match AUTH_FAILED", p.err)
	}
	if p.out.String() != "" {
		t.Errorf("stdout should be empty with -o, --json and --html: %q", p.out)
	}
	b, err := os.ReadFile(nd)
	if err != nil {
		t.Fatal(err)
	}
	if types, _ := ndjsonTypes(t, string(b)); types[0] != "live_finding" || types[len(types)-1] != "summary" || strings.Contains(string(b), "alice") {
		t.Errorf("%s: record types %v\n%s", nd, types, b)
	}
	stderr := p.errOut.String()
	for _, leak := range []string{"alice", "web05", "127.0.0.1"} {
		if strings.Contains(strings.ToLower(stderr), strings.ToLower(leak)) {
			t.Errorf("--anonymize: stderr names %q:\n%s", leak, stderr)
		}
	}
	b, err = os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Findings []struct{ Code, Message string } `json:"findings"`
		Summary  struct {
			HandshakesFailed int `json:"handshakes_failed"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if rep.Summary.HandshakesFailed != 1 || len(rep.Findings) == 0 || rep.Findings[0].Code != "AUTH_FAILED" {
		t.Errorf("JSON report: %s", b)
	}
	// The live line quotes the report's message, pseudonyms included.
	if !strings.Contains(stderr, rep.Findings[0].Message) || strings.Contains(string(b), "alice") {
		t.Errorf("live line and report disagree, or the report names alice:\nstderr %s\nmessage %s", stderr, rep.Findings[0].Message)
	}
	h, err := os.ReadFile(html)
	if err != nil || !strings.HasPrefix(string(h), "<!DOCTYPE html>") || !strings.Contains(string(h), "AUTH_FAILED") {
		t.Errorf("HTML report: %v, %.100q", err, h)
	}
}
