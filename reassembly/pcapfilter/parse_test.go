package pcapfilter

import (
	"errors"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

func TestParseErrorsSayWhere(t *testing.T) {
	tests := []struct {
		expr string
		col  int
		kind error
		msg  string
	}{
		{"tcp port http", 10, ErrUnsupported, `port names are not looked up: give "http" as a number`},
		{"host server01", 6, ErrUnsupported, `host names are not resolved`},
		{"vlan and tcp", 1, ErrUnsupported, `"vlan" is tcpdump syntax outside`},
		{"tcp and ether host 1:2:3:4:5:6", 9, ErrUnsupported, `"ether"`},
		{"tcp[13] & 2 != 0", 4, ErrUnsupported, `unexpected "["`},
		{"greater 100", 1, ErrUnsupported, `"greater"`},
		{"port 80 and", 12, ErrSyntax, "expected a primitive"},
		{"(tcp", 5, ErrSyntax, "expected ), found the end"},
		{"tcp)", 4, ErrSyntax, `expected and, or or the end, found ")"`},
		{"10.0.0.1", 1, ErrSyntax, "needs a qualifier"},
		{"tcp or 80", 8, ErrSyntax, "needs a qualifier"},
		{"ip port 80", 9, ErrSyntax, `"ip" does not qualify ports`},
		{"tcp host 10.0.0.1", 10, ErrSyntax, `"tcp" does not qualify addresses`},
		{"ip6 host 10.0.0.1", 10, ErrSyntax, "is an IPv4 address"},
		{"host 10.0.0.0/8", 6, ErrSyntax, "use net 10.0.0.0/8"},
		{"net 10.0.0.1/8", 5, ErrSyntax, "non-network bits set"},
		{"net 10", 5, ErrSyntax, "write all four parts"},
		{"net 10.0.0.0/40", 5, ErrSyntax, "bad prefix length"},
		{"port 70000", 6, ErrSyntax, "out of range"},
		{"port 080", 6, ErrSyntax, "no leading zero"},
		{"port 80-90", 6, ErrSyntax, "use portrange 80-90"},
		{"src or port 80", 8, ErrSyntax, "expected dst"},
		{"TCP port 80", 1, ErrSyntax, "keywords are lower case"},
		{"host fe80::1%eth0", 13, ErrUnsupported, `unexpected "%"`},
		{"port 80 ; rm", 9, ErrSyntax, `unexpected ";"`},
	}
	for _, tc := range tests {
		_, err := Parse(tc.expr)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tc.expr, err)
			continue
		}
		if se.Col != tc.col || !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Parse(%q): column %d, %v\n  got  %q\n  want column %d, %v, containing %q", tc.expr, se.Col, se.Kind, err, tc.col, tc.kind, tc.msg)
		}
		if tc.kind == ErrUnsupported && !strings.Contains(err.Error(), "--bpf-file") {
			t.Errorf("Parse(%q): an unsupported construct should point to --bpf-file: %v", tc.expr, err)
		}
	}
}

func TestSyntaxErrorCaret(t *testing.T) {
	_, err := Parse("tcp port http")
	var se *SyntaxError
	errors.As(err, &se)
	if got := se.Caret(); got != "tcp port http\n         ^" {
		t.Errorf("Caret() = %q", got)
	}
}

func TestEmptyFilterIsNil(t *testing.T) {
	for _, e := range []string{"", "  \t"} {
		f, err := Parse(e)
		if f != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want nil, nil", e, f, err)
		}
	}
	prog, err := (*Filter)(nil).Compile(layers.LinkTypeEthernet, 96)
	if err != nil || len(prog) != 1 || prog[0] != (bpf.RetConstant{Val: 96}) {
		t.Errorf("nil filter compiles to %v, %v", prog, err)
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	tests := map[string]string{
		"tcp port 80 or 8080":            "(tcp port 80 or tcp port 8080)",
		"src or dst host 10.0.0.1":       "src or dst host 10.0.0.1",
		"port 80 and (8080 or 443)":      "(port 80 and (port 8080 or port 443))",
		"host 10.0.0.1 and not 10.0.0.2": "(host 10.0.0.1 and not host 10.0.0.2)",
		"udp or tcp and port 80":         "((udp or tcp) and port 80)",
		"! ip6 && (tcp || udp)":          "(not ip6 and (tcp or udp))",
		"src 10.0.0.1 or 10.0.0.2":       "(src 10.0.0.1 or src 10.0.0.2)",
		"portrange 90-80":                "portrange 80-90",
		"ip6 src net 2001:db8::/32":      "ip6 src net 2001:db8::/32",
		"src net 10.0.0.0/8 or 10.1.2.3": "(src net 10.0.0.0/8 or src net 10.1.2.3/32)",
		// A parenthesised term passes on the context before it, as in
		// libpcap: the bare 1 is a port.
		"port 80 and (host 10.0.0.1) or 1": "((port 80 and host 10.0.0.1) or port 1)",
	}
	for in, want := range tests {
		f, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := f.Canonical(); got != want {
			t.Errorf("Parse(%q).Canonical() = %q, want %q", in, got, want)
		}
		g, err := Parse(f.Canonical())
		if err != nil || g.Canonical() != f.Canonical() {
			t.Errorf("canonical %q does not parse back: %v %v", f.Canonical(), g, err)
		}
	}
}

// TestLongFilterUsesTrampolines checks that a filter too long for 8-bit
// jump offsets still compiles, and behaves as tcpdump's.
func TestLongFilterUsesTrampolines(t *testing.T) {
	var hosts []string
	for _, h := range append(pool6, pool6...) {
		hosts = append(hosts, "host "+h)
	}
	for _, h := range pool4 {
		hosts = append(hosts, "src and dst host "+h, "net "+h+"/32")
	}
	expr := strings.Join(hosts, " or ") + " or port 80 or 8080 or 85"
	f, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := f.Compile(layers.LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 300 {
		t.Fatalf("only %d instructions: the test needs jumps beyond 255", len(prog))
	}
	if _, ok := bpf.Assemble(prog); ok != nil {
		t.Fatalf("Assemble: %v", ok)
	}
	needTcpdump(t)
	sameAsTcpdump(t, expr, allFrames())
}

func TestTooLong(t *testing.T) {
	expr := "host ::1" + strings.Repeat(" or host ::1", 400)
	f, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Compile(layers.LinkTypeEthernet, 0); !errors.Is(err, ErrTooLong) {
		t.Errorf("Compile = %v, want ErrTooLong", err)
	}
}

func TestCompileUnknownLinkType(t *testing.T) {
	f, _ := Parse("tcp")
	_, err := f.Compile(layers.LinkTypeNull, 0)
	if !errors.Is(err, ErrLinkType) {
		t.Errorf("Compile(Null) = %v, want ErrLinkType", err)
	}
}
