package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/synth"
)

func TestParseFlags(t *testing.T) {
	o, err := parse([]string{"-seed", "9", "-size", "1MB", "-o", "x", "-mix", "dns=0", "-profile", "small", "-users", "5"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.config()
	if err != nil {
		t.Fatal(err)
	}
	want := synth.SmallConfig()
	if cfg.Seed != 9 || cfg.Size != 1_000_000 || cfg.Mix[synth.DNS] != 0 || cfg.Mix[synth.Healthy] != want.Mix[synth.Healthy] ||
		cfg.Users != 5 || cfg.Clients != want.Clients {
		t.Errorf("config %+v", cfg)
	}
	for _, args := range [][]string{
		{},                              // no output
		{"-check", "r.json"},            // check without -expect
		{"-o", "x", "stray"},            // extra argument
		{"-o", "x", "-size", "lots"},    // bad size (reported by config)
		{"-o", "x", "-mix", "nope=1"},   // unknown scenario
		{"-o", "x", "-profile", "huge"}, // unknown profile
	} {
		var errOut bytes.Buffer
		if code := run(args, &bytes.Buffer{}, &errOut); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, errOut.String())
		}
	}
}

// TestGenerateThenCheck writes a capture and its expectations, then checks
// a report that matches and one that does not.
func TestGenerateThenCheck(t *testing.T) {
	dir := t.TempDir()
	capture, expect := filepath.Join(dir, "c.pcapng"), filepath.Join(dir, "c.json")
	var out, errOut bytes.Buffer
	if code := run([]string{"-profile", "small", "-size", "60KB", "-o", capture, "-expect", expect}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	f, err := os.Open(expect)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := synth.ReadExpected(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(capture); err != nil || st.Size() != exp.Bytes {
		t.Fatalf("capture %v, %v; expected %d bytes", st, err, exp.Bytes)
	}

	// report is the head of a report, cut after "connections" begins:
	// the check must not need the rest.
	report := func(handshakes int64) []byte {
		sum := exp.Summary
		sum.Handshakes = handshakes
		src, err := json.Marshal(exp.Source)
		if err != nil {
			t.Fatal(err)
		}
		sm, err := json.Marshal(sum)
		if err != nil {
			t.Fatal(err)
		}
		causes, err := json.Marshal(exp.Causes)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(`{"schema":"ntlmscope.report/v1","tool":{"name":"ntlmscope"},"source":` + string(src) +
			`,"summary":` + string(sm) + `,"verdict":{"code":"x","causes":` + string(causes) + `},"connections":[`)
	}
	good, bad := filepath.Join(dir, "good.json"), filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, report(exp.Summary.Handshakes), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, report(exp.Summary.Handshakes+2), 0o644); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if code := run([]string{"-check", good, "-expect", expect}, &out, &errOut); code != exitOK || !strings.HasPrefix(out.String(), "PASS") ||
		!strings.Contains(out.String(), "verdict causes match") {
		t.Errorf("good report: exit %d, %q", code, out.String())
	}
	out.Reset()
	code := run([]string{"-check", bad, "-expect", expect}, &out, &errOut)
	if code != exitError || !strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "summary.handshakes: want") {
		t.Errorf("bad report: exit %d, %q", code, out.String())
	}
}
