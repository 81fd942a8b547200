package lab

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Loss makes the kernel drop a share of a scenario's packets, at random,
// with two netfilter rules on its block (iptables' statistic match):
//
//   - on OUTPUT, before the packet reaches lo, so that tcpdump never sees
//     it: the capture has a hole that the sender's retransmission fills
//     later, as at a capture point after the loss;
//   - on INPUT, after tcpdump saw it on lo, so that the capture holds the
//     packet and, later, its retransmission, as at a capture point before
//     the loss.
//
// Both are what real captures are full of, made by real TCP stacks (their
// retransmission timers, fast retransmit, SACK), which no scripted capture
// imitates. Rules on the block's addresses touch no other traffic. (The
// kernel the lab runs on has no netem, which could also delay and
// reorder.)
type Loss struct {
	// Probability of dropping each packet in each hook, in (0, 1).
	Probability float64
}

// lossRule is one of Loss's rules: its chain, the block it drops packets
// to, and its iptables arguments.
type lossRule struct {
	chain, cidr string
	args        []string
}

// rules returns Loss's two rules for the block cidr.
func (l Loss) rules(cidr string) []lossRule {
	p := strconv.FormatFloat(l.Probability, 'f', -1, 64)
	args := []string{"-d", cidr, "-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP"}
	return []lossRule{{"OUTPUT", cidr, args}, {"INPUT", cidr, args}}
}

// lossCheck says why Loss cannot run here, or returns nil: it needs
// iptables and a kernel with netfilter's statistic match, which it tries
// with a rule on an address no test uses.
func lossCheck() error {
	if _, err := exec.LookPath("iptables"); err != nil {
		return fmt.Errorf("lossy scenarios need iptables: run scripts/install-test-deps.sh as root")
	}
	r := Loss{Probability: 0.5}.rules("127.255.255.254/32")[0]
	if err := r.iptables("-I"); err != nil {
		return fmt.Errorf("lossy scenarios need netfilter's statistic match (iptables -m statistic): %w", err)
	}
	r.removeAll()
	return nil
}

// iptables inserts (-I) or deletes (-D) r, waiting for the xtables lock
// (other tests, or the system, may hold it).
func (r lossRule) iptables(op string) error {
	_, err := runProgram("", append([]string{"iptables", "-w", op, r.chain}, r.args...)...)
	return err
}

// removeAll deletes every copy of r: a run killed before its clean-up may
// have left one behind.
func (r lossRule) removeAll() {
	for r.iptables("-D") == nil {
	}
}

// lossyBlock is Loss at work on a block: Stop removes its rules and says
// how many packets they dropped.
type lossyBlock struct {
	rules   []lossRule
	stopped bool
}

// startLoss adds l's rules for n, after removing any a killed run left on
// the same block; they are removed by Stop, or when the test ends.
func startLoss(t testing.TB, n Net, l Loss) (*lossyBlock, error) {
	t.Helper()
	b := &lossyBlock{rules: l.rules(n.CIDR())}
	t.Cleanup(func() { _, _ = b.Stop() })
	for _, r := range b.rules {
		r.removeAll()
		if err := r.iptables("-I"); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Stop reads how many packets the rules dropped, then removes them; a
// rule it cannot count is removed all the same. Later calls do nothing.
func (b *lossyBlock) Stop() (dropped int64, err error) {
	if b.stopped {
		return 0, nil
	}
	b.stopped = true
	for _, r := range b.rules {
		n, cerr := count(r)
		if cerr != nil && err == nil {
			err = cerr
		}
		dropped += n
		r.removeAll()
	}
	return dropped, err
}

// count returns the packets rule r dropped so far: the first counter of
// `iptables -S CHAIN -v`'s line for the rule ("-c PACKETS BYTES").
func count(r lossRule) (int64, error) {
	out, err := runProgram("", "iptables", "-w", "-S", r.chain, "-v")
	if err != nil {
		return 0, err
	}
	dst := "-d " + r.cidr
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, dst) || !strings.Contains(line, "statistic") {
			continue
		}
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "-c" {
				return strconv.ParseInt(f[i+1], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("lab: no counter for the loss rule on %s in:\n%s", r.chain, out)
}

// waitQuiet waits, up to limit, until no TCP socket of the block n is left
// in a state that may still send unprompted: a lossy run's programs are
// gone, but the kernel keeps retransmitting their last data and FIN for a
// while, which would land in the next run's capture as a connection
// without its start.
func waitQuiet(n Net, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		busy, err := blockSockets(n)
		if err != nil || busy == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: %d sockets of %s still busy after %v", busy, n.CIDR(), limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quietStates are the /proc/net/tcp states that send nothing unprompted:
// FIN_WAIT2 (05) waits for the peer, TIME_WAIT (06) only answers, CLOSE_WAIT
// (08) waits for its program, LISTEN (0A) waits for a SYN.
var quietStates = map[string]bool{"05": true, "06": true, "08": true, "0A": true}

// blockSockets counts the IPv4 TCP sockets (/proc/net/tcp) with an end in
// block n in a state that may send (see quietStates).
func blockSockets(n Net) (int, error) {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, err
	}
	busy := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 || quietStates[f[3]] {
			continue
		}
		for _, addr := range f[1:3] {
			if inBlock(addr, n) {
				busy++
				break
			}
		}
	}
	return busy, nil
}

// inBlock reports whether a /proc/net/tcp address ("0100007F:1F90": the
// four address bytes as the machine's own 32-bit word, in hex, then the
// port) is in block n.
func inBlock(addr string, n Net) bool {
	ip, _, ok := strings.Cut(addr, ":")
	if !ok || len(ip) != 8 {
		return false
	}
	w, err := strconv.ParseUint(ip, 16, 32)
	if err != nil {
		return false
	}
	var a [4]byte
	binary.NativeEndian.PutUint32(a[:], uint32(w))
	return a[0] == 127 && a[1] == n.b && a[2] == n.s
}
