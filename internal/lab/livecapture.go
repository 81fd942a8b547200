package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// LiveCapture is `ntlmscope capture -i lo` recording a scenario next to
// tcpdump: the lab's scenarios also run through ntlmscope's own live
// capture, whose report must say what the analysis of tcpdump's files says.
type LiveCapture struct {
	proc   *Proc
	Report string // the JSON report written at stop
	File   string // the pcapng written with -w
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// ntlmscopeBinary builds the command once per test process.
func ntlmscopeBinary() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ntlmscope-lab-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "ntlmscope")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/ntlmscope")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("lab: go build ./cmd/ntlmscope: %v\n%s", err, out)
		}
	})
	return builtBin, buildErr
}

// startLiveCapture starts `ntlmscope capture -i lo` on n's block and returns
// once it says it is capturing. keyLog, when set, is the clients' TLS key
// log (--keylog): capture re-reads it as the clients append their secrets.
func startLiveCapture(t testing.TB, dir string, n Net, keyLog string) (*LiveCapture, error) {
	t.Helper()
	bin, err := ntlmscopeBinary()
	if err != nil {
		return nil, err
	}
	lc := &LiveCapture{Report: filepath.Join(dir, "live-report.json"), File: filepath.Join(dir, "live.pcapng")}
	args := []string{"capture", "-i", "lo", "-B", "32", "-f", "net " + n.CIDR(),
		"-w", lc.File, "--format", "json", "-o", lc.Report}
	if keyLog != "" {
		args = append(args, "--keylog", keyLog)
	}
	p, err := startProc(t, dir, nil, append([]string{bin}, args...)...)
	if err != nil {
		return nil, err
	}
	if err := p.waitFor("\"capturing on\"", startTimeout, func() bool {
		return strings.Contains(p.Output(), "capturing on")
	}); err != nil {
		return nil, err
	}
	lc.proc = p
	return lc, nil
}

// Stop ends the capture as Ctrl-C does; the report and file are complete
// when it returns.
func (lc *LiveCapture) Stop() error {
	if err := lc.proc.Stop(syscall.SIGINT); err != nil {
		return err
	}
	if _, err := os.Stat(lc.Report); err != nil {
		return fmt.Errorf("lab: ntlmscope capture wrote no report: %v (exit %v)\n%s", err, lc.proc.err, lc.proc.Output())
	}
	return nil
}

// ReadReport decodes the live capture's JSON report.
func (lc *LiveCapture) ReadReport() (*analyzer.Report, error) {
	b, err := os.ReadFile(lc.Report)
	if err != nil {
		return nil, err
	}
	var rep analyzer.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("lab: live report: %w", err)
	}
	return &rep, nil
}
