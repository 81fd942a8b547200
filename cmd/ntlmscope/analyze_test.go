package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func testIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, &out, &errOut
}

func TestAnalyzeFlagsWiring(t *testing.T) {
	ios, _, _ := testIO()
	var got *analyzeOptions
	cmd := newCmdAnalyze(ios, func(o *analyzeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--format", "json", "-o", "r.json", "--restart-window", "45s", "a.pcapng", "b.pcap.gz"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Format != "json" || got.Output != "r.json" || got.RestartWindow != 45*time.Second ||
		strings.Join(got.Files, ",") != "a.pcapng,b.pcap.gz" {
		t.Errorf("options = %+v", got)
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     exitCode
		wantErr  string
		wantOut  string
		noStdout bool
	}{
		{"no file", []string{"analyze"}, exitError, "no capture file given", "", true},
		{"unknown format", []string{"analyze", "--format", "xml", "x.pcap"}, exitError, `unknown format "xml"`, "", true},
		{"missing file", []string{"analyze", "/nonexistent/trace.pcapng"}, exitError, "/nonexistent/trace.pcapng", "", true},
		{"version", []string{"version"}, exitOK, "", "ntlmscope ", false},
		{"unknown command", []string{"frobnicate"}, exitError, "unknown command", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, errOut := testIO()
			if code := run(tc.args, ios); code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut.String(), tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout %q does not contain %q", out.String(), tc.wantOut)
			}
			if tc.noStdout && out.Len() != 0 {
				t.Errorf("stdout should be empty on error, got %q", out.String())
			}
		})
	}
}

func TestAnalyzeStdinNotACapture(t *testing.T) {
	ios, out, errOut := testIO()
	ios.In = strings.NewReader("this is not a capture file at all")
	if code := run([]string{"analyze", "-"}, ios); code != exitError {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut.String())
	}
	if out.Len() != 0 || !strings.Contains(errOut.String(), "not a pcap or pcapng") {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
}
