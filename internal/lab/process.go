package lab

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/syncbuf"
)

// Timeouts. They are generous: they only bound how long a broken lab takes
// to fail, and a loaded CI machine must not fail a working one.
const (
	startTimeout = 15 * time.Second // a program listens, tcpdump captures
	stopGrace    = 5 * time.Second  // a signalled program exits
	pollEvery    = 10 * time.Millisecond
)

// Proc is a program the lab started in a process group of its own, so that
// stopping it stops whatever it forked, and nothing else.
type Proc struct {
	name   string
	cmd    *exec.Cmd
	out    syncbuf.Buffer
	exited chan struct{}
	err    error // from Wait, valid once exited is closed
}

// startProc starts argv in dir with env added to the lab's environment. It
// is killed at the end of the test if still running.
func startProc(t testing.TB, dir string, env []string, argv ...string) (*Proc, error) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &Proc{name: argv[0], cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lab: start %s: %w", argv[0], err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { _ = p.Stop(syscall.SIGKILL) })
	return p, nil
}

// Output returns what the program wrote so far.
func (p *Proc) Output() string { return p.out.String() }

// Exited reports whether the program has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Stop sends sig to the program's process group, waits up to stopGrace for
// it to exit, then kills the group. It returns an error only when even
// SIGKILL did not end it.
func (p *Proc) Stop(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	pgid := p.cmd.Process.Pid // Setpgid: the group is the program's own pid
	_ = syscall.Kill(-pgid, sig)
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopGrace):
		return fmt.Errorf("lab: %s (pid %d) survived SIGKILL", p.name, pgid)
	}
}

// waitFor polls cond until it holds. It gives up when the program exits or
// after timeout, with the program's output in the error.
func (p *Proc) waitFor(what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if p.Exited() {
			return fmt.Errorf("lab: %s exited (%v) before %s:\n%s", p.name, p.err, what, p.Output())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: %s: no %s after %v:\n%s", p.name, what, timeout, p.Output())
		}
		time.Sleep(pollEvery)
	}
	return nil
}

// waitListening waits until addr accepts TCP connections. The probe
// connection is made before the capture starts, so it never appears in one.
func (p *Proc) waitListening(addr string) error {
	return p.waitFor("listener on "+addr, startTimeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
}

// runProgram runs argv to completion and returns its combined output.
func runProgram(dir string, argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), fmt.Errorf("lab: %s: %w:\n%s", strings.Join(argv, " "), err, out)
		}
		return string(out), fmt.Errorf("lab: %s: %w", argv[0], err)
	}
	return string(out), nil
}
