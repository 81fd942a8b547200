package reassembly

import (
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// writeConversation writes a short HTTP conversation through w as frames
// of interface li (Ethernet framing), returning how many were written.
func writeConversation(t *testing.T, w *PcapngWriter, li LiveInterface) int {
	t.Helper()
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80"))
	c.Handshake()
	c.Send(capwriter.ToServer, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	c.Send(capwriter.ToClient, []byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n"))
	c.Close()
	n := 0
	for _, p := range c.Packets() {
		frames, err := capwriter.Encap{}.Frames(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			if _, err := w.WriteFrame(&Frame{Time: p.Time, Data: f, Length: len(f), LinkType: layers.LinkTypeEthernet, Interface: li}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

func TestPcapngWriterRotates(t *testing.T) {
	dir := t.TempDir()
	eth := LiveInterface{Index: 2, Name: "eth0", LinkType: layers.LinkTypeEthernet}
	w, err := CreatePcapng(PcapngOptions{Path: filepath.Join(dir, "trace.pcapng"), RotateSize: 300, RotateCount: 3,
		Filter: "tcp port 80", Snaplen: 262144, Interface: eth})
	if err != nil {
		t.Fatal(err)
	}
	n := writeConversation(t, w, eth)
	if err := w.Close(SourceStats{Packets: int64(n), KernelDrops: 2}); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) < 4 || filepath.Base(files[0]) != "trace_00001.pcapng" {
		t.Fatalf("files %v: want trace_00001.pcapng... and more than 3", files)
	}
	for i, f := range files {
		_, err := os.Stat(f)
		if kept := i >= len(files)-3; kept != (err == nil) {
			t.Errorf("%s: exists %v, should %v (RotateCount 3)", f, err == nil, kept)
		}
		if err == nil {
			if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600 (captures hold NTLM responses)", f, fi.Mode().Perm())
			}
		}
	}
}

func TestPcapngWriterAnyInterfaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "any.pcapng")
	w, err := CreatePcapng(PcapngOptions{Path: path, Interface: anyInterface(), Filter: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	eth := LiveInterface{Index: 2, Name: "eth0"}
	lo := LiveInterface{Index: 1, Name: "lo"}
	n := writeConversation(t, w, eth) + writeConversation(t, w, lo)
	if err := w.Close(SourceStats{Packets: int64(n)}); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := 0
	for {
		if _, err := src.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if st := src.Stats(); got != n || st.Packets != int64(n) || st.CorruptRecords != 0 {
		t.Errorf("read back %d TCP packets of %d, stats %+v", got, n, st)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: the file is not checked with Wireshark's reader")
	}
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.interface_name", "-e", "frame.interface_id").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != n || !strings.HasPrefix(lines[0], "eth0\t1") || !strings.HasPrefix(lines[n-1], "lo\t2") {
		t.Errorf("tshark sees %d packets, first %q last %q; want %d, eth0 (block 1) then lo (block 2)", len(lines), lines[0], lines[n-1], n)
	}
}
