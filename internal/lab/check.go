package lab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// RequireEnv names the environment variable that turns a lab that cannot
// run into a failure instead of a skip; CI sets it.
const RequireEnv = "NTLMSCOPE_REQUIRE_LAB"

// programs are the Debian programs every lab run needs (see
// scripts/install-test-deps.sh). Scenario.Needs adds per-scenario ones.
var programs = []string{"tcpdump", "curl", "haproxy", "nginx", "squid"}

// Required reports whether the environment demands that the lab run.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Check says why the lab cannot run here, or returns nil: it needs root
// (tcpdump on lo, squid switching users) and the Debian programs.
func Check() error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (tcpdump captures on lo)")
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if findNTLMFakeAuth() == "" {
		missing = append(missing, "squid's ntlm_fake_auth")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the lab needs %s: run scripts/install-test-deps.sh as root", strings.Join(missing, ", "))
	}
	return nil
}

// checkNeeds says which of a scenario's extra needs (programs on PATH, or
// absolute paths of files) are missing.
func checkNeeds(needs []string) error {
	var missing []string
	for _, n := range needs {
		if strings.HasPrefix(n, "/") {
			if _, err := os.Stat(n); err != nil {
				missing = append(missing, n)
			}
		} else if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("scenario needs %s: run scripts/install-test-deps.sh as root", strings.Join(missing, ", "))
	}
	return nil
}

// Available says why scenario s cannot run here, or returns nil.
func (s *Scenario) Available() error { return checkNeeds(s.Needs) }
