package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSharedTools runs the shared checks of ../shared/tools against a
// freshly built binary on every public capture: HTTP and NTLM parity with
// tshark, and the redaction check (no secret tshark extracts from a capture
// appears in any output format).
func TestSharedTools(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs tshark")
	}
	tools := filepath.Join(sharedDir, "tools")
	caps, _ := filepath.Glob(filepath.Join(sharedDir, "captures", "*.pcap*"))
	nonHTTP, _ := filepath.Glob(filepath.Join(sharedDir, "captures", "non-http", "*.pcap*"))
	if len(caps) == 0 {
		sharedCapture(t, "PROVENANCE.md") // skips, or fails in CI
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("NTLMSCOPE_REQUIRE_SHARED") != "" {
			t.Fatal("tshark is not installed: `make test` installs it (scripts/install-test-deps.sh)")
		}
		t.Skip("skipping: tshark not installed (make test installs it)")
	}
	bin := buildBinary(t)
	checks := []struct {
		name string
		args []string
	}{
		{"http parity", append([]string{filepath.Join(tools, "tshark-parity"), bin, "http"}, append(caps, nonHTTP...)...)},
		{"ntlm parity", append([]string{filepath.Join(tools, "tshark-parity"), bin, "ntlm"}, caps...)},
		{"redaction", append([]string{filepath.Join(tools, "redaction-check"), bin}, caps...)},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.Command("python3", c.args...).CombinedOutput()
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Log(lines[len(lines)-1])
			if err != nil {
				t.Errorf("%s failed: %v\n%s", c.name, err, out)
			}
		})
	}
}
