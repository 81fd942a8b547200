package reassembly

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// FuzzSource reads arbitrary bytes as a capture file: opening fails with a
// *FileError or reading ends with io.EOF, never a panic, and the counts
// add up.
func FuzzSource(f *testing.F) {
	for _, b := range srcSmallCaptures(f) {
		f.Add(b)
	}
	f.Add(etlHead())
	f.Add([]byte("GMBU\x00\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		src, err := OpenFiles([]string{"-"}, bytes.NewReader(b))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("open: %v is not a *FileError", err)
			}
			return
		}
		var n int64
		for {
			p, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			n++
			if p.Frame < n || p.Truncated != (p.MissingBytes > 0) || p.MissingBytes < 0 {
				t.Fatalf("packet %d: frame %d, truncated %v, missing %d", n, p.Frame, p.Truncated, p.MissingBytes)
			}
		}
		st := src.Stats()
		if st.TCP != n || st.Packets < st.TCP+st.NonTCP+st.Malformed+st.UnknownLinkType ||
			st.CorruptRecords > 1 || st.Truncated > st.TCP || st.FragmentsReassembled > st.Fragments {
			t.Fatalf("%d packets, stats %+v", n, st)
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		// A gzipped input is inflated ahead of the reader when the run has
		// few files, as it is read when it has many: the two must agree.
		if bytes.HasPrefix(b, gzipMagic) {
			f, err := openCapture("-", 0, bytes.NewReader(b), nil, false)
			if err != nil {
				t.Fatalf("opens inflated ahead but not as read: %v", err)
			}
			m := &mergeSource{paths: []string{"-"}, files: []*captureFile{f}}
			var k int64
			for {
				if _, err := m.Next(); err != nil {
					break
				}
				k++
			}
			if ms := m.Stats(); k != n || ms.CorruptRecords != st.CorruptRecords || !slices.Equal(ms.Warnings, st.Warnings) {
				t.Fatalf("inflated ahead: %d packets, warnings %q; as read: %d, %q", n, st.Warnings, k, ms.Warnings)
			}
			m.Close()
		}
	})
}

// FuzzSourceDecode decodes arbitrary frames of every handled link type:
// the decoder must not panic and a TCP verdict must come with a TCP
// header.
func FuzzSourceDecode(f *testing.F) {
	for _, tc := range []struct {
		e    capwriter.Encap
		frag bool
	}{
		{e: capwriter.Encap{VLANs: []uint16{1, 2}}},
		{e: capwriter.Encap{Link: capwriter.SLL}},
		{e: capwriter.Encap{Link: capwriter.SLL2, Tunnels: []capwriter.Tunnel{capwriter.VXLAN, capwriter.ERSPAN3Platform}}},
		{e: capwriter.Encap{Link: capwriter.Null, Tunnels: []capwriter.Tunnel{capwriter.GREKeyed, capwriter.GRETEB}}},
		{e: capwriter.Encap{Link: capwriter.Raw, Tunnels: []capwriter.Tunnel{capwriter.ERSPAN2}}},
	} {
		for _, ps := range []capwriter.Packets{
			srcConversation("10.0.0.1:1", "10.0.0.2:80")[3:4],
			srcConversation("[2001:db8::1]:1", "[2001:db8::2]:80")[3:4],
		} {
			fs, err := tc.e.Frames(ps[0])
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint16(tc.e.LinkType()), fs[0])
		}
	}
	f.Fuzz(func(t *testing.T, lt uint16, frame []byte) {
		var st SourceStats
		var p Packet
		d := pktDecoder{stats: &st, pkt: &p}
		// Twice, as fragments meet earlier ones in the defragmenter.
		for range 2 {
			v := d.decode(layers.LinkType(lt), frame, capwriter.DefaultBase)
			if v == verdictTCP && (p.TCP.DataOffset < 5 || p.MissingBytes < 0) {
				t.Fatalf("TCP verdict with data offset %d, missing %d", p.TCP.DataOffset, p.MissingBytes)
			}
		}
	})
}
