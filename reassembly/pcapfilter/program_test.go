package pcapfilter

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// tcpdumpDDD is `tcpdump -y EN10MB -ddd 'tcp port 80'` (tcpdump 4.99.3).
const tcpdumpDDD = `20
40 0 0 12
21 0 6 34525
48 0 0 20
21 0 15 6
40 0 0 54
21 12 0 80
40 0 0 56
21 10 11 80
21 0 10 2048
48 0 0 23
21 0 8 6
40 0 0 20
69 6 0 8191
177 0 0 14
72 0 0 14
21 2 0 80
72 0 0 16
21 0 1 80
6 0 0 262144
6 0 0 0
`

func TestParseProgram(t *testing.T) {
	prog, err := ParseProgram(strings.NewReader(tcpdumpDDD))
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != 20 || prog[0] != (bpf.RawInstruction{Op: 40, K: 12}) {
		t.Fatalf("got %d instructions, first %+v", len(prog), prog[0])
	}
	// The same program as C array (tcpdump -dd), first lines only.
	dd := "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n"
	if p, err := ParseProgram(strings.NewReader(dd)); err != nil || len(p) != 4 || p[1].K != 0x800 {
		t.Errorf("-dd form: %v %v", p, err)
	}
	// It behaves as our compilation of the same expression.
	f, _ := Parse("tcp port 80")
	ours, _ := f.Compile(layers.LinkTypeEthernet, 0)
	m, err := NewProgramMatcher(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames(layers.LinkTypeEthernet) {
		if fr.cut {
			continue
		}
		if got, want := m.Match(layers.LinkTypeEthernet, fr.data), runVM(t, ours, fr.data) > 0; got != want {
			t.Fatalf("frame % x: program %v, compiled %v", fr.data, got, want)
		}
	}
}

func TestParseProgramErrors(t *testing.T) {
	tests := map[string]string{
		"":                          "empty",
		"3\n6 0 0 0\n":              "announces 3 instructions and has 1",
		"2\n21 0 5 2048\n6 0 0 0\n": "jumps past the end",
		"1\n40 0 0 12\n":            "does not end with a return",
		"1\n6 0 0 99999999999\n":    "not a number in range",
		"tcp port 80\n":             "want 4 numbers",
		"1\n65535 0 0 0\n":          "not classic BPF",
	}
	for in, want := range tests {
		_, err := ParseProgram(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseProgram(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestProgramMatcherRefusesExtensions(t *testing.T) {
	// ld #proto (SKF_AD_PROTOCOL), as tcpdump -i any compiles.
	prog := []bpf.RawInstruction{{Op: 0x20, K: 0xfffff000}, {Op: 0x6, K: 0}}
	if _, err := NewProgramMatcher(prog); err == nil || !strings.Contains(err.Error(), "only for live captures") {
		t.Errorf("NewProgramMatcher = %v", err)
	}
}

func TestMatcher(t *testing.T) {
	f, _ := Parse("tcp port 80")
	m := NewMatcher(f)
	pkts := corpus(9, 200)
	var kept, keptRaw int
	for _, p := range pkts {
		if m.Match(layers.LinkTypeEthernet, frame(layers.LinkTypeEthernet, p, false)) {
			kept++
		}
		if m.Match(layers.LinkTypeLinuxSLL2, frame(layers.LinkTypeLinuxSLL2, p, false)) {
			keptRaw++
		}
	}
	if kept == 0 || kept == len(pkts) || kept != keptRaw {
		t.Errorf("kept %d of %d on Ethernet, %d on SLL2", kept, len(pkts), keptRaw)
	}
	if m.Match(layers.LinkTypeNull, []byte{2, 0, 0, 0}) {
		t.Error("a frame of a link type the filter cannot read was kept")
	}
	if w := m.Warnings(); len(w) != 1 || !strings.Contains(w[0], "1 packets on link type Null") {
		t.Errorf("Warnings() = %q", w)
	}
	if !NewMatcher(nil).Match(layers.LinkTypeNull, nil) {
		t.Error("a nil filter must keep everything")
	}
}
