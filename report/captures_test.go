package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// sharedCaptures returns the public captures of ../../shared/captures
// (never copied into the repository). Without them the test skips, unless
// NTLMSCOPE_REQUIRE_SHARED is set, as in CI, where it fails.
func sharedCaptures(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "captures")
	caps, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(caps) == 0 {
		if os.Getenv("NTLMSCOPE_REQUIRE_SHARED") != "" {
			t.Fatalf("no capture under %s but NTLMSCOPE_REQUIRE_SHARED is set", dir)
		}
		t.Skipf("skipping: no public captures under %s (they live beside the repository)", dir)
	}
	return caps
}

// labCaptures returns the lab's own captures under testdata/lab matching
// pattern (none yet is no failure: the lab produces them).
func labCaptures(pattern string) []string {
	caps, _ := filepath.Glob(filepath.Join("..", "testdata", "lab", pattern))
	return caps
}

// analyze runs the real pipeline on a capture.
func analyze(t *testing.T, path string) *analyzer.Report {
	t.Helper()
	src, err := reassembly.OpenFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	an := analyzer.New(analyzer.Options{ToolVersion: "test", Files: []string{filepath.Base(path)}})
	if _, err := reassembly.Run(src, an, reassembly.Options{}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return an.Finish(src.Stats())
}

// TestCapturesRenderInEveryFormat is the smoke test: every public and lab
// capture renders in every format (and every CSV table) without error.
func TestCapturesRenderInEveryFormat(t *testing.T) {
	caps := append(sharedCaptures(t), labCaptures("*.pcap*")...)
	for _, c := range caps {
		r := analyze(t, c)
		t.Run(filepath.Base(c), func(t *testing.T) {
			for _, v := range variants() {
				if out := render(t, v.format, v.opts, r); len(out) == 0 {
					t.Errorf("%s: empty output", v.name)
				}
			}
			render(t, "markdown", Options{Anonymize: true}, r)
		})
	}
}
