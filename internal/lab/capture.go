package lab

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Capture is a running tcpdump on lo recording one scenario's address
// block into a raw file, which Split then cuts into legs.
type Capture struct {
	proc *Proc
	raw  string
	net  Net
}

// startCapture starts tcpdump on lo for n's block and returns once tcpdump
// says it is listening (its socket and filter are in place then).
//
// -U and --immediate-mode make tcpdump write each packet as it arrives.
// -B gives the kernel ring 32 MiB: on lo a ring slot holds a whole 64 KiB
// frame, so the default 2 MiB holds about 30 packets, and a burst while
// tcpdump waits for a CPU overflows it. -Z root keeps tcpdump from dropping
// privileges to a user that cannot write the test's temporary directory.
func startCapture(t testing.TB, dir string, n Net) (*Capture, error) {
	t.Helper()
	raw := filepath.Join(dir, "raw.pcap")
	p, err := startProc(t, dir, nil, "tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "32768", "-Z", "root",
		"-w", raw, "net "+n.CIDR())
	if err != nil {
		return nil, err
	}
	if err := p.waitFor("\"listening on\"", startTimeout, func() bool {
		return strings.Contains(p.Output(), "listening on")
	}); err != nil {
		return nil, err
	}
	return &Capture{proc: p, raw: raw, net: n}, nil
}

// droppedRE reads tcpdump's closing statistics.
var droppedRE = regexp.MustCompile(`(\d+) packets? dropped by kernel`)

// Stop ends the capture once everything sent before the call is in the
// file. SIGINT alone could lose packets still in the kernel's buffer, so
// Stop first sends a datagram with a fresh nonce inside the captured block
// and waits until tcpdump has written it: every earlier packet is written
// by then. The datagram is UDP; the legs keep TCP only.
func (c *Capture) Stop() error {
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	marker := []byte("ntlmscope-lab-end-" + hex.EncodeToString(nonce))
	addr := &net.UDPAddr{IP: net.ParseIP(c.net.IP(hostMarker)), Port: 9}
	sink, err := net.ListenUDP("udp", addr)
	if err != nil {
		return fmt.Errorf("lab: marker socket: %w", err)
	}
	defer sink.Close()
	if _, err := sink.WriteToUDP(marker, addr); err != nil {
		return fmt.Errorf("lab: marker: %w", err)
	}
	if err := c.proc.waitFor("end marker in the capture", startTimeout, func() bool {
		b, err := os.ReadFile(c.raw)
		return err == nil && bytes.Contains(b, marker)
	}); err != nil {
		return err
	}
	if err := c.proc.Stop(syscall.SIGINT); err != nil {
		return err
	}
	if m := droppedRE.FindStringSubmatch(c.proc.Output()); m == nil {
		return fmt.Errorf("lab: tcpdump printed no statistics:\n%s", c.proc.Output())
	} else if n, _ := strconv.Atoi(m[1]); n != 0 {
		return fmt.Errorf("lab: tcpdump: %d packets dropped by kernel", n)
	}
	return nil
}

// Split writes the packets of the raw capture that match filter (a pcap
// filter expression) to out, timestamps and link type unchanged.
func (c *Capture) Split(out, filter string) error {
	_, err := runProgram(filepath.Dir(out), "tcpdump", "-n", "-Z", "root", "-r", c.raw, "-w", out, filter)
	return err
}
