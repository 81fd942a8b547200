package pcapfilter

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// links are the link types checked against tcpdump, by tcpdump's -y name.
var links = []struct {
	name string
	lt   layers.LinkType
}{
	{"EN10MB", layers.LinkTypeEthernet},
	{"LINUX_SLL", layers.LinkTypeLinuxSLL},
	{"LINUX_SLL2", layers.LinkTypeLinuxSLL2},
	{"RAW", layers.LinkTypeRaw},
	{"IPV4", layers.LinkTypeIPv4},
	{"IPV6", layers.LinkTypeIPv6},
}

// needTcpdump skips the test without tcpdump, unless CI requires it.
func needTcpdump(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		if os.Getenv("NTLMSCOPE_REQUIRE_SHARED") != "" {
			t.Fatal("tcpdump is not installed: `make test` installs it")
		}
		t.Skip("skipping: tcpdump not installed (the filter is checked against `tcpdump -d`)")
	}
}

// tcpdumpProgram compiles expr with tcpdump for the link named link. ok
// is false when tcpdump refuses the expression.
func tcpdumpProgram(t *testing.T, link, expr string) (prog []bpf.Instruction, msg string, ok bool) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command("tcpdump", "-y", link, "-ddd", expr)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if strings.Contains(errOut.String(), "expression rejects all packets") {
			return []bpf.Instruction{bpf.RetConstant{Val: 0}}, "", true
		}
		return nil, strings.TrimSpace(errOut.String()), false
	}
	raw, err := ParseProgram(&out)
	if err != nil {
		t.Fatalf("tcpdump -ddd %q: %v\n%s", expr, err, out.String())
	}
	prog, _ = bpf.Disassemble(raw)
	return prog, "", true
}

// runVM runs prog on pkt.
func runVM(t *testing.T, prog []bpf.Instruction, pkt []byte) int {
	t.Helper()
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return n
}

// testFrame is a frame of the corpus; cut frames are run, not compared.
type testFrame struct {
	data []byte
	cut  bool
}

// frames returns the test frames of a link type.
func frames(lt layers.LinkType) []testFrame {
	var out []testFrame
	for i, p := range corpus(1, 600) {
		switch lt {
		case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
			// These links carry IP only (of one version for the last two):
			// anything else there is garbage, run but not compared.
			ip := p.etherType == etherIPv4 && lt != layers.LinkTypeIPv6 ||
				p.etherType == etherIPv6 && lt != layers.LinkTypeIPv4
			out = append(out, testFrame{p.data, p.cut || !ip})
		default:
			out = append(out, testFrame{frame(lt, p, i%17 == 0), p.cut})
		}
	}
	return out
}

// sameAsTcpdump checks that expr is accepted by both or refused by both,
// and that both programs return the same on every test frame.
func sameAsTcpdump(t *testing.T, expr string, framesOf map[layers.LinkType][]testFrame) {
	t.Helper()
	f, perr := Parse(expr)
	for _, l := range links {
		theirs, msg, ok := tcpdumpProgram(t, l.name, expr)
		if perr != nil {
			if ok {
				t.Errorf("%q: we refuse (%v), tcpdump -y %s accepts", expr, perr, l.name)
			}
			return
		}
		if !ok {
			t.Errorf("%q: we accept, tcpdump -y %s refuses: %s", expr, l.name, msg)
			return
		}
		ours, err := f.Compile(l.lt, 0)
		if err != nil {
			t.Fatalf("%q: Compile(%s): %v", expr, l.name, err)
		}
		for i, fr := range framesOf[l.lt] {
			pkt := fr.data
			if a, b := runVM(t, ours, pkt), runVM(t, theirs, pkt); a != b && !fr.cut {
				t.Errorf("%q on %s frame %d (% x): ours returns %d, tcpdump's %d\nours:\n%s", expr, l.name, i, pkt, a, b, dump(ours))
				return
			}
		}
	}
}

func dump(prog []bpf.Instruction) string {
	var b strings.Builder
	for i, in := range prog {
		fmt.Fprintf(&b, "(%03d) %v\n", i, in)
	}
	return b.String()
}

func allFrames() map[layers.LinkType][]testFrame {
	m := map[layers.LinkType][]testFrame{}
	for _, l := range links {
		m[l.lt] = frames(l.lt)
	}
	return m
}

// subsetExprs covers every construct of the subset.
var subsetExprs = []string{
	"ip", "ip6", "tcp", "udp", "not ip", "!tcp",
	"host 10.0.0.5", "src host 10.0.0.5", "dst host 10.0.0.5", "src or dst host 10.0.0.5",
	"src and dst host 10.0.0.5", "dst and src host 127.0.0.1", "dst or src host 10.0.0.6",
	"ip host 10.0.0.5", "ip src host 192.168.1.1", "ip dst 10.0.0.6", "src 10.1.2.3",
	"host ::1", "ip6 host 2001:db8::1", "ip6 src host fe80::1", "dst ::ffff:10.0.0.5",
	"net 10.0.0.0/8", "net 10.0.0.0/24", "src net 192.168.0.0/16", "ip dst net 10.1.0.0/16",
	"net 0.0.0.0/0", "net 10.0.0.5/32", "net 10.0.0.5", "ip6 net 2001:db8::/32", "net 2001:db8:1::/48",
	"ip6 net ::/0", "dst net fe80::/10", "net ::1/128",
	"port 80", "src port 80", "dst port 8080", "tcp port 80", "udp port 443", "tcp src port 85",
	"udp dst port 0", "port 65535", "src or dst port 1024", "src and dst port 80", "tcp src and dst port 443",
	"portrange 80-90", "portrange 80-8080", "tcp portrange 1-1024", "udp dst portrange 400-500",
	"portrange 90-80", "portrange 80", "src portrange 0-65535",
	"tcp port 80 or tcp port 8080", "host 10.0.0.5 and port 443", "tcp and port 80",
	"tcp and not port 80 or udp", "not (tcp or udp)", "ip and ip6", "ip or ip6",
	"host 10.0.0.5 or 10.0.0.6", "port 80 or 8080 or 443", "host 10.0.0.5 and not 10.0.0.6",
	"port 80 and (8080 or 443)", "port 80 and not (85 or 443)", "port 80 and ((85))",
	"src host 10.0.0.5 and (10.0.0.6 or 127.0.0.1)", "src net 10.0.0.0/8 or 192.168.1.1",
	"port not 80", "host (10.0.0.5 or 10.0.0.6)", "tcp and (src port 80 or 85)",
	"host 10.0.0.5 or port 80 or 85", "port 80 or host 10.0.0.5 or 10.0.0.6",
	"udp or tcp and port 80", "not not port 80 and not 85", "(tcp) and (port 80)", "((tcp))",
	"ip6 and tcp dst port 80", "ip and udp and src portrange 0-100", "not ip6 host ::1 && tcp || udp",
	"tcp port 80 and (host 10.0.0.5 or host 2001:db8::1)", "port 80 and (host 10.0.0.5) or 85",
	// Refused by both.
	"", "tcp or 80", "ip port 80", "tcp host 10.0.0.5", "ip6 host 10.0.0.5", "ip host ::1",
	"host 10.0.0.0/8", "net 10.0.0.1/8", "net 10.0.0.0/33", "port 70000", "port 80-90",
	"10.0.0.5", "port", "(tcp", "tcp)", "src", "src or port 80", "and tcp",
}

func TestSubsetMatchesTcpdump(t *testing.T) {
	needTcpdump(t)
	fr := allFrames()
	for _, e := range subsetExprs {
		if e == "" {
			continue // tcpdump's empty filter is ours too (nil Filter), tested apart
		}
		sameAsTcpdump(t, e, fr)
	}
}

// TestRandomExpressionsMatchTcpdump compares random expressions of the
// subset, built from the packets' address and port pools.
func TestRandomExpressionsMatchTcpdump(t *testing.T) {
	needTcpdump(t)
	n := 150
	if testing.Short() {
		n = 20
	}
	fr := allFrames()
	r := rand.New(rand.NewPCG(42, 1))
	for range n {
		sameAsTcpdump(t, randExpr(r, 3), fr)
	}
}

// randExpr builds a random expression of the subset, up to depth deep.
func randExpr(r *rand.Rand, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		return randPrimitive(r)
	}
	a, b := randExpr(r, depth-1), randExpr(r, depth-1)
	switch r.IntN(6) {
	case 0:
		return "not " + a
	case 1:
		return "(" + a + ") and (" + b + ")"
	case 2:
		return a + " or " + b // unparenthesised: left to right, no precedence
	case 3:
		return a + " and " + b
	case 4:
		return "!(" + a + ") || " + b
	}
	return "(" + a + " or " + b + ")"
}

func randPrimitive(r *rand.Rand) string {
	dirs := []string{"", "src ", "dst ", "src or dst ", "src and dst "}
	d := pick(r, dirs)
	switch r.IntN(7) {
	case 0:
		return pick(r, []string{"ip", "ip6", "tcp", "udp"})
	case 1:
		a := pick(r, pool4)
		s := pick(r, []string{"", "ip "}) + d + "host " + a
		if r.IntN(2) == 0 {
			s += pick(r, []string{" or ", " and not ", " and "}) + pick(r, pool4)
		}
		return s
	case 2:
		return pick(r, []string{"", "ip6 "}) + d + "host " + pick(r, pool6)
	case 3:
		return d + "net " + pick(r, []string{"10.0.0.0/8", "10.0.0.0/24", "192.168.0.0/16", "10.0.0.4/30", "127.0.0.0/8", "0.0.0.0/1"})
	case 4:
		return pick(r, []string{"", "ip6 "}) + d + "net " + pick(r, []string{"2001:db8::/32", "2001:db8:1::/48", "fe80::/10", "::/1", "::ffff:0:0/96"})
	case 5:
		s := pick(r, []string{"", "tcp ", "udp "}) + d + "port " + fmt.Sprint(pick(r, ports))
		if r.IntN(2) == 0 {
			s += pick(r, []string{" or ", " and not "}) + fmt.Sprint(pick(r, ports))
		}
		return s
	}
	lo, hi := pick(r, ports), pick(r, ports)
	return pick(r, []string{"", "tcp ", "udp "}) + d + fmt.Sprintf("portrange %d-%d", lo, hi)
}
