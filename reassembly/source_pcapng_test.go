package reassembly

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// TestOversizedRecords reads records longer than the snap length the file
// declares, as dpkt and some other writers produce (tcpdump and Wireshark
// read them).
func TestOversizedRecords(t *testing.T) {
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:80"))
	c.Send(capwriter.ToServer, bytes.Repeat([]byte("A"), 1400))
	ps := c.Packets()
	b := srcCapture(t, capwriter.PCAP, capwriter.Encap{}, ps)
	binary.LittleEndian.PutUint32(b[16:], 100) // snaplen
	got, _ := srcDrain(t, srcOpenBytes(t, b))
	srcCompare(t, got, srcExpect(ps))

	b = srcCapture(t, capwriter.PCAPNG, capwriter.Encap{}, ps)
	shb := int(binary.LittleEndian.Uint32(b[4:]))
	binary.LittleEndian.PutUint32(b[shb+12:], 100) // the IDB's snaplen
	got, _ = srcDrain(t, srcOpenBytes(t, b))
	srcCompare(t, got, srcExpect(ps))
}

// TestPcapngMixedLinkTypes reads a pcapng file with Ethernet and SLL2
// interfaces interleaved, plus non-TCP records; frame numbers count every
// record and must be tshark's.
func TestPcapngMixedLinkTypes(t *testing.T) {
	ps := srcConversation("10.0.0.1:1234", "10.0.0.2:80")
	var buf bytes.Buffer
	w := capwriter.NewWriter(&buf, capwriter.PCAPNG)
	for i, p := range ps {
		e := capwriter.Encap{}
		if i%3 == 1 {
			e.Link = capwriter.SLL2
		}
		if i%4 == 2 { // a UDP datagram on the raw-IP interface
			udp := []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 9, 10, 0, 0, 8, 0, 53, 0, 53, 0, 8, 0, 0}
			if err := w.WriteFrame(layers.LinkTypeRaw, p.Time, udp); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WritePackets(e, []capwriter.Packet{p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := srcTempFile(t, "mixed.pcapng", buf.Bytes())
	src, err := OpenFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, st := srcDrain(t, src)
	var mine []string
	for _, s := range got {
		mine = append(mine, strconv.FormatInt(s.Frame, 10)+"\t"+strconv.Itoa(int(s.Src.Port())))
	}
	if len(got) != len(ps) || st.NonTCP != 3 || st.Packets != int64(len(ps))+3 {
		t.Errorf("%d packets, stats %+v", len(got), st)
	}
	if got[len(got)-1].Frame != int64(len(ps))+3 {
		t.Errorf("last frame %d", got[len(got)-1].Frame)
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed; frame numbers not compared")
	}
	out, err := exec.Command(tshark, "-r", path, "-Y", "tcp", "-T", "fields", "-e", "frame.number", "-e", "tcp.srcport").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(string(out), "\n"); strings.Join(mine, "\n") != want {
		t.Errorf("frames and ports:\n%s\ntshark:\n%s", strings.Join(mine, "\n"), want)
	}
}

// TestPcapngSections reads concatenated pcapng files (cat a.pcapng
// b.pcapng): each section has its own interfaces, frame numbers go on.
func TestPcapngSections(t *testing.T) {
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")
	a := srcCapture(t, capwriter.PCAPNG, capwriter.Encap{Link: capwriter.SLL2}, ps[:4])
	b := srcCapture(t, capwriter.PCAPNG, capwriter.Encap{}, ps[4:])
	got, st := srcDrain(t, srcOpenBytes(t, append(bytes.Clone(a), b...)))
	srcCompare(t, got, srcExpect(ps))
	if st.Packets != int64(len(ps)) || len(st.Warnings) != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestPcapngLargeBlock reads a packet block larger than the read buffer
// (a 600 kB TSO frame: IPv4 total length 0), and stops at one whose
// captured length does not fit it.
func TestPcapngLargeBlock(t *testing.T) {
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:80"))
	c.MSS = 600000
	c.Send(capwriter.ToServer, bytes.Repeat([]byte("z"), 600000))
	p := c.Packets()[0]
	frames, err := capwriter.Encap{}.Frames(p)
	if err != nil {
		t.Fatal(err)
	}
	frame := frames[0]
	binary.BigEndian.PutUint16(frame[14+2:], 0) // IPv4 total length 0: TSO
	var buf bytes.Buffer
	w := capwriter.NewWriter(&buf, capwriter.PCAPNG)
	for range 2 {
		if err := w.WriteFrame(layers.LinkTypeEthernet, p.Time, frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	got, st := srcDrain(t, srcOpenBytes(t, b))
	if len(got) != 2 || len(got[1].Payload) != 600000 || got[1].Missing != 0 || len(st.Warnings) != 0 {
		t.Fatalf("%d packets, stats %+v", len(got), st)
	}
	second := len(b) - int(binary.LittleEndian.Uint32(b[len(b)-4:]))
	binary.LittleEndian.PutUint32(b[second+20:], 1<<30) // captured length
	got, st = srcDrain(t, srcOpenBytes(t, b))
	if len(got) != 1 || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "offset "+strconv.Itoa(second)+" (captured length 1073741824 does not fit") {
		t.Errorf("%d packets, warnings %q", len(got), st.Warnings)
	}
}
