package reassembly

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// srcSeg is what a test checks of one packet a Source returned.
type srcSeg struct {
	File     int
	Frame    int64
	Src, Dst netip.AddrPort
	Seq      uint32
	Payload  string
	Missing  int
}

func (s srcSeg) String() string {
	return fmt.Sprintf("f%d#%d %v>%v seq=%d len=%d missing=%d", s.File, s.Frame, s.Src, s.Dst, s.Seq, len(s.Payload), s.Missing)
}

// srcDrain reads src to the end, closes it and returns the packets and the
// final stats. A fatal error fails the test.
func srcDrain(t testing.TB, src Source) ([]srcSeg, SourceStats) {
	t.Helper()
	segs, st, err := srcDrainErr(src)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return segs, st
}

// srcDrainErr is srcDrain returning the fatal error, if any.
func srcDrainErr(src Source) ([]srcSeg, SourceStats, error) {
	var segs []srcSeg
	var err error
	for {
		var p *Packet
		p, err = src.Next()
		if err != nil {
			break
		}
		if p.Truncated != (p.MissingBytes > 0) {
			err = fmt.Errorf("frame %d: Truncated %v with MissingBytes %d", p.Frame, p.Truncated, p.MissingBytes)
			break
		}
		segs = append(segs, srcSeg{
			File: p.File, Frame: p.Frame,
			Src:     netip.AddrPortFrom(p.Src, uint16(p.TCP.SrcPort)),
			Dst:     netip.AddrPortFrom(p.Dst, uint16(p.TCP.DstPort)),
			Seq:     p.TCP.Seq,
			Payload: string(p.TCP.Payload),
			Missing: p.MissingBytes,
		})
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	st := src.Stats()
	if cerr := src.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return segs, st, err
}

// srcDrainFiles opens paths together (OpenFiles) and drains them
// (srcDrain).
func srcDrainFiles(t testing.TB, paths []string) ([]srcSeg, SourceStats) {
	t.Helper()
	src, err := OpenFiles(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srcDrain(t, src)
}

// srcTimes reads src to the end, closes it and returns its packets'
// times and the final stats. A fatal error fails the test.
func srcTimes(t testing.TB, src Source) ([]time.Time, SourceStats) {
	t.Helper()
	var times []time.Time
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		times = append(times, p.Time)
	}
	st := src.Stats()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	return times, st
}

// srcOpenBytes opens capture bytes as a single file through stdin.
func srcOpenBytes(t testing.TB, b []byte) Source {
	t.Helper()
	src, err := OpenFiles([]string{"-"}, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("OpenFiles: %v", err)
	}
	return src
}

// srcTempFile writes b to a file named name in a temporary directory.
func srcTempFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// srcCapture returns a capture of ps framed with e.
func srcCapture(t testing.TB, f capwriter.Format, e capwriter.Encap, ps []capwriter.Packet) []byte {
	t.Helper()
	b, err := capwriter.Bytes(f, e, ps)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// srcConversation returns a short HTTP exchange between client and server
// (11 segments: handshake, 3 request segments, 2 response segments, close).
func srcConversation(client, server string) capwriter.Packets {
	c := capwriter.NewConversation(netip.MustParseAddrPort(client), netip.MustParseAddrPort(server))
	c.MSS = 16
	c.Handshake()
	c.Send(capwriter.ToServer, []byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n"))
	c.Send(capwriter.ToClient, []byte("HTTP/1.1 200 OK\r\n\r\n"))
	c.Close()
	return c.Packets()
}

// srcExpect returns the segments a Source should return for ps, written
// one record per packet in file 0.
func srcExpect(ps []capwriter.Packet) []srcSeg {
	var want []srcSeg
	for i, p := range ps {
		want = append(want, srcSeg{Frame: int64(i + 1), Src: p.Src, Dst: p.Dst, Seq: p.Seq, Payload: string(p.Payload)})
	}
	return want
}

// srcCompare fails the test where got and want differ.
func srcCompare(t testing.TB, got, want []srcSeg) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d packets, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("packet %d:\n got  %v\n want %v", i, got[i], want[i])
		}
	}
}

// srcGzip returns b gzipped.
func srcGzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
