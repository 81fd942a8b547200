package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
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

// TestAnalyzeFilter: -f keeps only matching packets of files, and frame
// numbers stay those of the file (Wireshark's).
func TestAnalyzeFilter(t *testing.T) {
	client := filepath.Join("..", "..", "testdata", "lab", "scenario3-balancer-round-robin-client.pcap")
	upstream := filepath.Join("..", "..", "testdata", "lab", "scenario3-balancer-round-robin-upstream.pcap")
	all := jsonReport(t, client, upstream)
	ios, out, errOut := testIO()
	if code := run([]string{"analyze", "--format", "json", "-f", "tcp port 48080", client, upstream}, ios); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var filtered map[string]any
	if err := json.Unmarshal(out.Bytes(), &filtered); err != nil {
		t.Fatal(err)
	}
	summary := func(r map[string]any, k string) float64 { return r["summary"].(map[string]any)[k].(float64) }
	if summary(all, "upstream_connections") == 0 || summary(filtered, "upstream_connections") != 0 {
		t.Errorf("upstream connections: %v unfiltered, %v with the filter (want > 0, then 0)",
			summary(all, "upstream_connections"), summary(filtered, "upstream_connections"))
	}
	frames := func(r map[string]any) []string {
		var out []string
		for _, c := range r["connections"].([]any) {
			cm := c.(map[string]any)
			if cm["leg"] != "client" {
				continue
			}
			for _, h := range cm["handshakes"].([]any) {
				hm := h.(map[string]any)
				out = append(out, fmt.Sprint(hm["frames"], hm["user"], hm["outcome"]))
			}
		}
		return out
	}
	if fmt.Sprint(frames(all)) != fmt.Sprint(frames(filtered)) {
		t.Errorf("the client leg's handshakes changed with the filter:\n%v\n%v", frames(all), frames(filtered))
	}
	ios, _, errOut = testIO()
	if code := run([]string{"analyze", "-f", "tcp prt 80", client}, ios); code != exitError || !strings.Contains(errOut.String(), "column 5") {
		t.Errorf("bad filter: exit %d, %q", code, errOut.String())
	}
}

// TestAnalyzeEvictionWarning: a connection table too small for the capture
// is said on stderr, with what to do, and the sharding caveat with
// several workers; the report counts the evictions.
func TestAnalyzeEvictionWarning(t *testing.T) {
	upstream := filepath.Join("..", "..", "testdata", "lab", "scenario4-nginx-upstream-keepalive-upstream.pcap")
	client := filepath.Join("..", "..", "testdata", "lab", "scenario4-nginx-upstream-keepalive-client.pcap")
	for _, workers := range []string{"1", "2"} {
		ios, out, errOut := testIO()
		if code := run([]string{"analyze", "--format", "json", "--max-connections", "1", "--workers", workers, client, upstream}, ios); code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		var r struct {
			Source struct {
				Evicted int `json:"evicted_connections"`
			} `json:"source"`
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		warn := errOut.String()
		if r.Source.Evicted == 0 || !strings.Contains(warn, "evicted from a full table") || !strings.Contains(warn, "raise --max-connections") {
			t.Errorf("--workers %s: evicted %d, stderr %q", workers, r.Source.Evicted, warn)
		}
		if shared := strings.Contains(warn, "each worker has a share"); shared != (workers != "1") {
			t.Errorf("--workers %s: stderr %q", workers, warn)
		}
	}
}
