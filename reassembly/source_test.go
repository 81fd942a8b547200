package reassembly

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// TestMergeOrder merges three files by timestamp: ties go to the earlier
// file, and each packet keeps its file index and its frame number in that
// file, non-TCP records included.
func TestMergeOrder(t *testing.T) {
	base := capwriter.DefaultBase
	// Seconds apart, longer than overlapTol: the files are side by side
	// (no file ends a moment after the next begins, as a ring buffer's do).
	unit := time.Second
	// File 0: packets at 0, 2, 4 s, and a non-TCP record (frame 2) at 1 s.
	// File 1: packets at 1, 2, 3 s.
	// File 2: packets at 2, 5 s, in pcapng.
	mk := func(port uint16, n int) capwriter.Packets {
		c := capwriter.NewConversation(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), netip.MustParseAddrPort("10.0.0.2:80"))
		c.MSS = 1
		c.Send(capwriter.ToServer, bytes.Repeat([]byte{'x'}, n))
		return c.Packets()
	}
	f0 := mk(1000, 3).Restamp(base, 2*unit)
	var b0 bytes.Buffer
	w := capwriter.NewWriter(&b0, capwriter.PCAP)
	if err := w.WritePackets(capwriter.Encap{}, f0[:1]); err != nil {
		t.Fatal(err)
	}
	arp := append(make([]byte, 12), 0x08, 0x06) // an ARP frame, empty
	if err := w.WriteFrame(layers.LinkTypeEthernet, base.Add(unit), append(arp, make([]byte, 46)...)); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePackets(capwriter.Encap{}, f0[1:]); err != nil {
		t.Fatal(err)
	}
	f1 := mk(1001, 3).Restamp(base.Add(unit), unit)
	f2 := mk(1002, 2)
	f2[0].Time, f2[1].Time = base.Add(2*unit), base.Add(5*unit)
	paths := []string{
		srcTempFile(t, "a.pcap", b0.Bytes()),
		srcTempFile(t, "b.pcap", srcCapture(t, capwriter.PCAP, capwriter.Encap{Link: capwriter.SLL}, f1)),
		srcTempFile(t, "c.pcapng", srcCapture(t, capwriter.PCAPNG, capwriter.Encap{}, f2)),
	}
	src, err := OpenFiles(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var times []time.Time
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		got = append(got, strconv.Itoa(p.File)+"#"+strconv.FormatInt(p.Frame, 10)+":"+strconv.Itoa(int(p.TCP.SrcPort)))
		times = append(times, p.Time)
	}
	want := "0#1:1000 1#1:1001 0#3:1000 1#2:1001 2#1:1002 1#3:1001 0#4:1000 2#2:1002"
	if strings.Join(got, " ") != want {
		t.Errorf("merged order\n got  %s\n want %s", strings.Join(got, " "), want)
	}
	for i := 1; i < len(times); i++ {
		if times[i].Before(times[i-1]) {
			t.Errorf("time goes back at %d", i)
		}
	}
	st := src.Stats()
	if st.Packets != 9 || st.TCP != 8 || st.NonTCP != 1 || len(st.Files) != 3 ||
		!st.FirstSeen.Equal(base) || !st.LastSeen.Equal(base.Add(5*unit)) {
		t.Errorf("stats %+v", st)
	}
	if err := src.Close(); err != nil {
		t.Error(err)
	}
}

// TestGzipAndStdin reads gzipped pcap and pcapng, from a file and stdin.
func TestGzipAndStdin(t *testing.T) {
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")
	for _, f := range []capwriter.Format{capwriter.PCAP, capwriter.PCAPNano, capwriter.PCAPNG} {
		plain := srcCapture(t, f, capwriter.Encap{}, ps)
		for name, b := range map[string][]byte{"plain": plain, "gzip": srcGzip(t, plain)} {
			got, _ := srcDrain(t, srcOpenBytes(t, b))
			srcCompare(t, got, srcExpect(ps))
			src, err := OpenFiles([]string{srcTempFile(t, "capture", b)}, nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, _ = srcDrain(t, src)
			srcCompare(t, got, srcExpect(ps))
		}
	}
}

// srcSwapPcap returns a little-endian pcap rewritten big-endian, as a
// big-endian host writes it.
func srcSwapPcap(b []byte) []byte {
	out := bytes.Clone(b)
	swap32 := func(i int) { binary.BigEndian.PutUint32(out[i:], binary.LittleEndian.Uint32(b[i:])) }
	swap16 := func(i int) { binary.BigEndian.PutUint16(out[i:], binary.LittleEndian.Uint16(b[i:])) }
	swap32(0)
	swap16(4)
	swap16(6)
	for _, i := range []int{8, 12, 16, 20} {
		swap32(i)
	}
	for off := 24; off+16 <= len(b); {
		caplen := int(binary.LittleEndian.Uint32(b[off+8:]))
		for i := 0; i < 16; i += 4 {
			swap32(off + i)
		}
		off += 16 + caplen
	}
	return out
}

// TestPcapByteOrders reads pcap in both byte orders and both timestamp
// resolutions.
func TestPcapByteOrders(t *testing.T) {
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")
	ps[1].Time = ps[1].Time.Add(123 * time.Nanosecond)
	for _, f := range []capwriter.Format{capwriter.PCAP, capwriter.PCAPNano} {
		le := srcCapture(t, f, capwriter.Encap{}, ps)
		for _, b := range [][]byte{le, srcSwapPcap(le)} {
			times, _ := srcTimes(t, srcOpenBytes(t, b))
			if len(times) != len(ps) {
				t.Fatalf("format %d magic % x: %d packets", f, b[:4], len(times))
			}
			want := ps[1].Time
			if f == capwriter.PCAP {
				want = want.Truncate(time.Microsecond)
			}
			if !times[1].Equal(want) {
				t.Errorf("format %d magic % x: time %v, want %v", f, b[:4], times[1], want)
			}
		}
	}
}

// TestPaddingAndSnaplen: Ethernet padding and trailers beyond the IP
// length are not payload; bytes the snaplen cut are counted missing.
func TestPaddingAndSnaplen(t *testing.T) {
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:80"))
	c.Send(capwriter.ToServer, []byte("x"))  // 55-byte frame, padded to 60
	c.Send(capwriter.ToServer, []byte("yz")) // same, and a 4-byte FCS added below
	c.Send(capwriter.ToServer, make([]byte, 100))
	ps := c.Packets()
	var buf bytes.Buffer
	w := capwriter.NewWriter(&buf, capwriter.PCAP)
	for i, p := range ps {
		fs, err := capwriter.Encap{}.Frames(p)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			fs[0] = append(fs[0], 0xde, 0xad, 0xbe, 0xef)
		}
		if err := w.WriteFrame(layers.LinkTypeEthernet, p.Time, fs[0]); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := srcDrain(t, srcOpenBytes(t, buf.Bytes()))
	srcCompare(t, got, srcExpect(ps))

	for _, tc := range []struct {
		snaplen        int
		missing        int
		tcp, malformed int64
	}{
		{54 + 60, 40, 3, 0}, // headers and 60 bytes of the 100
		{54, 100, 3, 0},     // headers only; the 1- and 2-byte payloads are cut too
		{40, 0, 0, 3},       // into the TCP header: nothing to return
	} {
		w := capwriter.NewWriter(&buf, capwriter.PCAPNG)
		buf.Reset()
		w.Snaplen = tc.snaplen
		if err := w.WritePackets(capwriter.Encap{}, ps); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		got, st := srcDrain(t, srcOpenBytes(t, buf.Bytes()))
		if st.TCP != tc.tcp || st.Malformed != tc.malformed {
			t.Errorf("snaplen %d: stats %+v", tc.snaplen, st)
		}
		if len(got) == 3 {
			if got[2].Missing != tc.missing || len(got[2].Payload)+got[2].Missing != 100 {
				t.Errorf("snaplen %d: payload %d, missing %d", tc.snaplen, len(got[2].Payload), got[2].Missing)
			}
			if tc.snaplen == 54 && (got[0].Missing != 1 || st.Truncated != 3) {
				t.Errorf("snaplen 54: %v, %d truncated", got[0], st.Truncated)
			}
		}
	}
}

// TestUnknownLinkTypeWarning counts records of link types the decoder
// does not handle and names them in a warning.
func TestUnknownLinkTypeWarning(t *testing.T) {
	var buf bytes.Buffer
	w := capwriter.NewWriter(&buf, capwriter.PCAPNG)
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")
	if err := w.WritePackets(capwriter.Encap{}, ps[:2]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := w.WriteFrame(layers.LinkTypeIEEE80211Radio, ps[2].Time, make([]byte, 40)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, st := srcDrain(t, srcOpenBytes(t, buf.Bytes()))
	if len(got) != 2 || st.UnknownLinkType != 2 || len(st.Warnings) != 1 ||
		!strings.HasPrefix(st.Warnings[0], "stdin: 2 packets on link type ") || !strings.Contains(st.Warnings[0], "(127)") {
		t.Errorf("%d packets, stats %+v", len(got), st)
	}
}

// TestTcpdumpPipe reads what `tcpdump -r FILE -w -` writes to a pipe, as in
// `tcpdump -w - | ntlmscope analyze -`.
func TestTcpdumpPipe(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")
	path := srcTempFile(t, "in.pcap", srcCapture(t, capwriter.PCAP, capwriter.Encap{Link: capwriter.SLL2}, ps))
	cmd := exec.Command(tcpdump, "-r", path, "-w", "-")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFiles([]string{"-"}, out)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := srcDrain(t, src)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	srcCompare(t, got, srcExpect(ps))
}
