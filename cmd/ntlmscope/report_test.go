package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

func TestAnalyzeReportFlagsWiring(t *testing.T) {
	ios, _, _ := testIO()
	var got *analyzeOptions
	cmd := newCmdAnalyze(ios, func(o *analyzeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--html", "r.html", "--json", "r.json", "--markdown", "r.md", "--fail-on", "error,AUTH_FAILED",
		"--fail-on", "healthy", "-v", "--user", `CORP\alice`, "--user", "bob", "--connection", "3,4", "--keep-query",
		"--anonymize", "--anonymize-key", "k", "--table", "handshakes", "a.pcapng"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.HTMLFile != "r.html" || got.JSONFile != "r.json" || got.MarkdownFile != "r.md" ||
		strings.Join(got.FailOn, ",") != "error,AUTH_FAILED,healthy" || !got.Verbose ||
		strings.Join(got.Users, ",") != `CORP\alice,bob` || len(got.Connections) != 2 || got.Connections[1] != 4 ||
		!got.KeepQuery || !got.Anonymize || got.AnonymizeKey != "k" || got.CSVTable != "handshakes" {
		t.Errorf("options = %+v", got)
	}
}

func TestFailOnMatch(t *testing.T) {
	rep := &analyzer.Report{Verdict: analyzer.Verdict{Code: analyzer.VerdictHealthy}, Findings: []analyzer.Finding{
		{Code: analyzer.CodeNTLMv1InUse, Severity: analyzer.SeverityWarning},
		{Code: analyzer.CodeChallengeNotCaptured, Severity: analyzer.SeverityInfo},
	}}
	for _, tc := range []struct {
		values []string
		match  bool
	}{
		{nil, false},
		{[]string{"healthy"}, true},
		{[]string{"HEALTHY"}, true},
		{[]string{"balancer-breaks-ntlm"}, false},
		{[]string{"NTLMV1_IN_USE"}, true},
		{[]string{"ntlmv1_in_use"}, true},
		{[]string{"AUTH_FAILED"}, false},
		{[]string{"info"}, true},
		{[]string{"warning"}, true},
		{[]string{"error"}, false},
		{[]string{"critical", "error"}, false},
		{[]string{"critical", "warning"}, true},
		{[]string{" error ", ""}, false},
	} {
		f, err := parseFailOn(tc.values)
		if err != nil {
			t.Fatalf("%v: %v", tc.values, err)
		}
		if reason, ok := f.match(rep); ok != tc.match {
			t.Errorf("--fail-on %v: match %v (%s), want %v", tc.values, ok, reason, tc.match)
		}
	}
	if _, err := parseFailOn([]string{"warnings"}); err == nil || !strings.Contains(err.Error(), `unknown --fail-on value "warnings"`) {
		t.Errorf("a misspelt value must be a usage error, got %v", err)
	}
}

// runAnalyze runs `ntlmscope analyze` with in-memory streams.
func runAnalyze(t *testing.T, tty bool, args ...string) (exitCode, string, string) {
	t.Helper()
	ios, out, errOut := testIO()
	ios.StdoutTTY = tty
	code := run(append([]string{"analyze"}, args...), ios)
	return code, out.String(), errOut.String()
}

func TestFailOnExitCodes(t *testing.T) {
	capture := sharedCapture(t, "BruteShark-http-ntlm-midstream.pcap") // healthy, NTLMV1_IN_USE (warning)
	for _, tc := range []struct {
		failOn string
		code   exitCode
	}{
		{"healthy", exitFailOn},
		{"warning", exitFailOn},
		{"NTLMV1_IN_USE", exitFailOn},
		{"error", exitOK},
		{"balancer-breaks-ntlm,AUTH_FAILED", exitOK},
		{"bogus", exitError},
	} {
		code, out, errOut := runAnalyze(t, false, "--format", "json", "--fail-on", tc.failOn, capture)
		if code != tc.code {
			t.Errorf("--fail-on %s: exit %d, want %d (stderr %q)", tc.failOn, code, tc.code, errOut)
		}
		switch tc.code {
		case exitFailOn:
			if !json.Valid([]byte(out)) || !strings.Contains(errOut, "--fail-on matched") {
				t.Errorf("--fail-on %s: the report must still be written, and stderr say why: %q", tc.failOn, errOut)
			}
		case exitError:
			if out != "" {
				t.Errorf("--fail-on %s: a usage error must come before any output", tc.failOn)
			}
		}
	}
}

func TestSeveralReportsInOneRun(t *testing.T) {
	capture := sharedCapture(t, "arkime-ntlm-synthetic-ipv6.pcap")
	dir := t.TempDir()
	h, j, m := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	code, out, errOut := runAnalyze(t, true, "--html", h, "--json", j, "--markdown", m, "--anonymize", capture)
	if code != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q: with only file outputs nothing goes to stdout", code, out, errOut)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if !strings.HasPrefix(read(h), "<!DOCTYPE html>") || !json.Valid([]byte(read(j))) || !strings.HasPrefix(read(m), "# NTLM diagnosis") {
		t.Error("a report has the wrong format")
	}
	// One run, one key: the same pseudonym in every file.
	var rep analyzer.Report
	if err := json.Unmarshal([]byte(read(j)), &rep); err != nil || len(rep.Users) == 0 {
		t.Fatalf("json: %v", err)
	}
	name := rep.Users[0].Name
	if !strings.HasPrefix(rep.Users[0].User, "user-") || !strings.Contains(read(h), strings.ReplaceAll(name, `\`, `\`)) {
		t.Errorf("user %q is not the same pseudonym in the HTML", name)
	}
	if strings.Contains(read(h)+read(m), "dave") {
		t.Error("a real user name is in an anonymized report")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestReportFlagErrorsAndDefaults(t *testing.T) {
	capture := sharedCapture(t, "arkime-ntlm-synthetic-ipv6.pcap")
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"verbose needs a format for people", []string{"-v", "--format", "json"}, "-v lists every row of the table, markdown and html formats; json always has every row"},
		{"user needs table", []string{"--user", "bob", "--format", "html"}, "--user and --connection narrow the table format"},
		{"table needs csv", []string{"--table", "users", "--format", "json"}, "--format csv"},
		{"unknown csv table", []string{"--format", "csv", "--table", "sessions"}, `unknown CSV table "sessions"`},
		{"same file twice", []string{"--html", "x", "--json", "x"}, "named twice"},
		{"unknown fail-on", []string{"--fail-on", "sometimes"}, `unknown --fail-on value "sometimes"`},
	} {
		code, out, errOut := runAnalyze(t, false, append(tc.args, capture)...)
		if code != exitError || out != "" || !strings.Contains(errOut, tc.wantErr) {
			t.Errorf("%s: exit %d, stdout %d bytes, stderr %q; want exit 1 with %q", tc.name, code, len(out), errOut, tc.wantErr)
		}
	}

	// -o picks the format from the extension.
	p := filepath.Join(dir, "report.html")
	if code, _, errOut := runAnalyze(t, false, "-o", p, capture); code != exitOK {
		t.Fatal(errOut)
	}
	if b, _ := os.ReadFile(p); !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Error("-o report.html did not write HTML")
	}
	// -v alone means the table.
	if _, out, _ := runAnalyze(t, false, "-v", capture); !strings.Contains(out, "Connections") || json.Valid([]byte(out)) {
		t.Errorf("-v without --format should print the table:\n%s", out)
	}
	// Colour only on a terminal, never with NO_COLOR.
	if _, out, _ := runAnalyze(t, true, capture); !strings.Contains(out, "\x1b[") {
		t.Error("no colour on a terminal")
	}
	ios, out, _ := testIO()
	ios.StdoutTTY, ios.NoColor = true, true
	if run([]string{"analyze", capture}, ios); strings.Contains(out.String(), "\x1b[") {
		t.Error("colour despite NO_COLOR")
	}
	// A stable key gives the same report twice.
	_, a, _ := runAnalyze(t, false, "--anonymize-key", "k", capture)
	_, b, _ := runAnalyze(t, false, "--anonymize-key", "k", capture)
	if a != b || strings.Contains(a, "dave") {
		t.Error("--anonymize-key must give stable pseudonyms")
	}
}

// TestVerboseReachesItsFormats: -v is accepted with the formats it changes
// (table, markdown, html: whatever the case of --format, by extension, and
// for the --html and --markdown extras) and reaches their renderers; it is
// refused with those that always have every row.
func TestVerboseReachesItsFormats(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opts reportOptions
		want []string // the formats planned, each with Verbose
	}{
		{"markdown", reportOptions{Format: "Markdown"}, []string{"markdown"}},
		{"html by extension", reportOptions{Output: filepath.Join(dir, "r.html")}, []string{"html"}},
		{"table by default", reportOptions{}, []string{"table"}},
		{"extras", reportOptions{HTMLFile: filepath.Join(dir, "x.html"), MarkdownFile: filepath.Join(dir, "x.md")},
			[]string{"html", "markdown"}},
	} {
		ios, _, _ := testIO()
		tc.opts.Verbose = true
		outs, err := planOutputs(ios, &tc.opts)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, o := range outs {
			if !o.opts.Verbose {
				t.Errorf("%s: the %s report was planned without Verbose", tc.name, o.format)
			}
			got = append(got, o.format)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: planned %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, format := range []string{"json", "NDJSON", "csv"} {
		ios, _, _ := testIO()
		_, err := planOutputs(ios, &reportOptions{Format: format, Verbose: true})
		if err == nil || !strings.Contains(err.Error(), strings.ToLower(format)+" always has every row") {
			t.Errorf("-v --format %s: error %v, want a refusal naming %s", format, err, strings.ToLower(format))
		}
	}
}
