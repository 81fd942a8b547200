package tlslab

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/syncbuf"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// Packets turns recorded chunks into a TCP conversation between client
// and server: handshake, the chunks in order in segments of at most mss
// bytes (0: capwriter.DefaultMSS), and an orderly close.
func Packets(client, server netip.AddrPort, chunks []Chunk, mss int) capwriter.Packets {
	c := capwriter.NewConversation(client, server)
	if mss > 0 {
		c.MSS = mss
	}
	c.Handshake()
	for _, ch := range chunks {
		d := capwriter.ToClient
		if ch.ToServer {
			d = capwriter.ToServer
		}
		c.Send(d, ch.Data)
	}
	c.Close()
	return c.Packets()
}

// Tcpdump is a running tcpdump writing a capture file.
type Tcpdump struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	done   chan error
}

// StartTcpdump captures on iface what filter selects into path, packet by
// packet (-U), and returns once tcpdump says it is listening. Immediate
// mode matters: otherwise libpcap hands packets over a ring block at a
// time, and the block still open when tcpdump is stopped is lost.
func StartTcpdump(iface, filter, path string) (*Tcpdump, error) {
	bin, err := exec.LookPath("tcpdump")
	if err != nil {
		return nil, err
	}
	// -B: loopback segments run to 64 KiB, and immediate mode gives each
	// a snaplen-sized ring slot: the default 2 MiB holds a handful.
	args := []string{"-i", iface, "-U", "--immediate-mode", "-B", "65536", "-s", "0", "-n", "-w", path}
	if os.Geteuid() == 0 {
		// Root's tcpdump drops to the tcpdump user, which cannot write
		// into a test's private temporary directory.
		args = append(args, "-Z", "root")
	}
	cmd := exec.Command(bin, append(args, filter)...)
	stderr := &syncbuf.Buffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &Tcpdump{cmd: cmd, stderr: stderr, done: make(chan error, 1)}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "listening on") {
				once.Do(func() { close(listening) })
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		t.done <- err
	}()
	select {
	case <-listening:
		return t, nil
	case err := <-t.done:
		return nil, fmt.Errorf("tcpdump exited: %v: %s", err, stderr.String())
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-t.done
		return nil, errors.New("tcpdump did not start listening: " + stderr.String())
	}
}

// Stop lets packets in flight reach tcpdump, stops it with SIGINT and
// waits for it to write the file's end.
func (t *Tcpdump) Stop() error {
	time.Sleep(200 * time.Millisecond)
	_ = t.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-t.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = nil // tcpdump exits non-zero on a signal on some builds
		}
		return err
	case <-time.After(10 * time.Second):
		_ = t.cmd.Process.Kill()
		return errors.New("tcpdump did not stop: " + t.stderr.String())
	}
}

// Dropped returns the packets tcpdump said the kernel dropped (after Stop).
func (t *Tcpdump) Dropped() int {
	for _, line := range strings.Split(t.stderr.String(), "\n") {
		var n int
		if _, err := fmt.Sscanf(line, "%d packets dropped by kernel", &n); err == nil {
			return n
		}
	}
	return 0
}

// Output returns what tcpdump wrote to stderr.
func (t *Tcpdump) Output() string { return t.stderr.String() }

// WriteFile writes b to path, for key logs and captures made in tests.
func WriteFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
