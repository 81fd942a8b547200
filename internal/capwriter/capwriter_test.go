package capwriter

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// script returns a short HTTP exchange: 3 handshake, 3 request, 2
// response and 3 close segments.
func script(client, server string) Packets {
	c := NewConversation(netip.MustParseAddrPort(client), netip.MustParseAddrPort(server))
	c.MSS = 16
	c.Handshake()
	c.Send(ToServer, []byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n"))
	c.Send(ToClient, []byte("HTTP/1.1 200 OK\r\n\r\n"))
	c.Close()
	return c.Packets()
}

func TestConversation(t *testing.T) {
	ps := script("10.0.0.1:1234", "10.0.0.2:80")
	want := []struct {
		flags    Flags
		seq, ack uint32
		n        int
	}{
		{SYN, 1000, 0, 0}, {SYN | ACK, 5000, 1001, 0}, {ACK, 1001, 5001, 0},
		{ACK, 1001, 5001, 16}, {ACK, 1017, 5001, 16}, {ACK | PSH, 1033, 5001, 1},
		{ACK, 5001, 1034, 16}, {ACK | PSH, 5017, 1034, 3},
		{FIN | ACK, 1034, 5020, 0}, {FIN | ACK, 5020, 1035, 0}, {ACK, 1035, 5021, 0},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d packets, want %d", len(ps), len(want))
	}
	for i, w := range want {
		p := ps[i]
		if p.Flags != w.flags || p.Seq != w.seq || p.Ack != w.ack || len(p.Payload) != w.n {
			t.Errorf("packet %d: %v seq=%d ack=%d len=%d, want %v seq=%d ack=%d len=%d",
				i, p.Flags, p.Seq, p.Ack, len(p.Payload), w.flags, w.seq, w.ack, w.n)
		}
		if !p.Time.Equal(DefaultBase.Add(DefaultStep * time.Duration(i))) {
			t.Errorf("packet %d at %v", i, p.Time)
		}
	}
}

func TestPacketsEdits(t *testing.T) {
	c := NewConversation(netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2"))
	c.MSS = 1
	c.Send(ToServer, []byte("abcd"))
	ps := c.Packets()
	seqs := func(ps Packets) (s []uint32) {
		for _, p := range ps {
			s = append(s, p.Seq)
		}
		return s
	}
	check := func(name string, got Packets, want ...uint32) {
		t.Helper()
		if g := seqs(got); !slices.Equal(g, want) {
			t.Errorf("%s: seqs %v, want %v", name, g, want)
		}
	}
	check("sent", ps, 1001, 1002, 1003, 1004)
	check("permute", ps.Permute(3, 0, 2), 1004, 1001, 1003)
	check("drop", ps.Drop(1, 2), 1001, 1004)
	check("duplicate", ps.Duplicate(0), 1001, 1001, 1002, 1003, 1004)
	overlap := c.Segment(ToServer, 1, 3)
	if string(overlap.Payload) != "bc" || overlap.Seq != 1002 {
		t.Errorf("segment: %q at %d", overlap.Payload, overlap.Seq)
	}
	check("insert", ps.Insert(4, overlap), 1001, 1002, 1003, 1004, 1002)
	check("swap", ps.Swap(0, 3), 1004, 1002, 1003, 1001)
}

// encaps is every framing the writer knows, named for test output.
var encaps = []struct {
	name string
	e    Encap
}{
	{"ethernet", Encap{}},
	{"vlan", Encap{VLANs: []uint16{100}}},
	{"qinq", Encap{VLANs: []uint16{100, 200, 300}}},
	{"sll", Encap{Link: SLL}},
	{"sll2", Encap{Link: SLL2}},
	{"null", Encap{Link: Null}},
	{"null-be", Encap{Link: Null, NullBigEndian: true}},
	{"loop", Encap{Link: Loop}},
	{"raw", Encap{Link: Raw}},
	{"raw-12", Encap{Link: Raw, RawLinkType: 12}},
	{"gre", Encap{Tunnels: []Tunnel{GRE}}},
	{"gre-keyed", Encap{Tunnels: []Tunnel{GREKeyed}}},
	{"gre-teb", Encap{Tunnels: []Tunnel{GRETEB}}},
	{"erspan2", Encap{Tunnels: []Tunnel{ERSPAN2}}},
	{"erspan3", Encap{Tunnels: []Tunnel{ERSPAN3}}},
	{"erspan3-platform", Encap{Tunnels: []Tunnel{ERSPAN3Platform}}},
	{"vxlan", Encap{Tunnels: []Tunnel{VXLAN}}},
	{"nested", Encap{VLANs: []uint16{5}, Tunnels: []Tunnel{VXLAN, ERSPAN2, GRE}}},
	{"fragmented", Encap{FragmentSize: 8}},
}

// TestTshark checks that Wireshark reads every framing, in IPv4 and IPv6,
// as the intended TCP segments. All cases go in one pcapng file (an
// interface per link type) to run tshark once.
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	for _, f := range []Format{PCAP, PCAPNano, PCAPNG} {
		var buf bytes.Buffer
		w := NewWriter(&buf, f)
		var want, names []string
		for _, addrs := range [][2]string{
			{"10.0.0.1:50000", "10.0.0.2:80"},
			{"[2001:db8::1]:50000", "[2001:db8::2]:80"},
		} {
			for _, tc := range encaps {
				if f != PCAPNG && tc.e.LinkType() != layers.LinkTypeEthernet {
					continue
				}
				ps := script(addrs[0], addrs[1])
				if err := w.WritePackets(tc.e, ps); err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				for _, p := range ps {
					want = append(want, strconv.Itoa(int(p.Seq))+"\t"+strconv.Itoa(len(p.Payload))+"\t")
					names = append(names, addrs[0]+" "+tc.name)
				}
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "c.pcap")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tshark, "-r", path, "-Y", "tcp",
			"-T", "fields", "-e", "tcp.seq_raw", "-e", "tcp.len", "-e", "_ws.malformed").Output()
		if err != nil {
			t.Fatalf("tshark: %v\n%s", err, out)
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(got) != len(want) {
			t.Errorf("format %d: tshark saw %d TCP segments, want %d", f, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("format %d, %s: segment %d: tshark %q, want %q", f, names[i], i, got[i], want[i])
			}
		}
	}
}

func TestSnaplen(t *testing.T) {
	ps := script("10.0.0.1:1", "10.0.0.2:2")
	var buf bytes.Buffer
	w := NewWriter(&buf, PCAP)
	w.Snaplen = 60
	if err := w.WritePackets(Encap{}, ps); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r.Snaplen() != 60 {
		t.Errorf("snaplen %d", r.Snaplen())
	}
	for i := range ps {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatal(err)
		}
		want := 14 + 20 + 20 + len(ps[i].Payload)
		if ci.Length != max(want, 60) || len(data) != min(ci.Length, 60) {
			t.Errorf("record %d: caplen %d len %d, want len %d", i, len(data), ci.Length, want)
		}
	}
}

func TestPcapLinkTypeMismatch(t *testing.T) {
	w := NewWriter(&bytes.Buffer{}, PCAP)
	if err := w.WriteFrame(layers.LinkTypeEthernet, time.Time{}, make([]byte, 60)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(layers.LinkTypeRaw, time.Time{}, make([]byte, 20)); err == nil {
		t.Error("a second link type in a pcap file was accepted")
	}
}

func TestTwoInterfaces(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, PCAPNG)
	ps := script("10.0.0.1:1", "10.0.0.2:2")
	if err := w.WritePackets(Encap{}, ps[:2]); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePackets(Encap{Link: SLL2}, ps[2:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(&buf, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []layers.LinkType
	for {
		_, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		intf, _ := r.Interface(ci.InterfaceIndex)
		got = append(got, intf.LinkType)
	}
	if len(got) != len(ps) || got[1] != layers.LinkTypeEthernet || got[2] != layers.LinkTypeLinuxSLL2 {
		t.Errorf("link types %v", got)
	}
}
