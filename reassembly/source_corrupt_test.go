package reassembly

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// srcSmallCaptures are small captures of every format, for the damage
// tests and as fuzz seeds.
func srcSmallCaptures(t testing.TB) map[string][]byte {
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")[:6]
	ng := srcCapture(t, capwriter.PCAPNG, capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.ERSPAN3}}, ps[:3])
	var mixed bytes.Buffer
	w := capwriter.NewWriter(&mixed, capwriter.PCAPNG)
	for i, p := range ps {
		e := capwriter.Encap{FragmentSize: 8}
		if i%2 == 1 {
			e = capwriter.Encap{Link: capwriter.SLL2, Tunnels: []capwriter.Tunnel{capwriter.VXLAN}}
		}
		if err := w.WritePackets(e, []capwriter.Packet{p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	pcap := srcCapture(t, capwriter.PCAP, capwriter.Encap{VLANs: []uint16{1, 2}}, ps)
	return map[string][]byte{
		"pcap":        pcap,
		"pcap-be":     srcSwapPcap(pcap),
		"pcapng":      ng,
		"pcapng-mix":  mixed.Bytes(),
		"pcap-gzip":   srcGzip(t, pcap),
		"pcapng-gzip": srcGzip(t, ng),
	}
}

// srcIsPrefix reports whether got is a prefix of all.
func srcIsPrefix(got, all []srcSeg) bool {
	if len(got) > len(all) {
		return false
	}
	for i := range got {
		if got[i] != all[i] {
			return false
		}
	}
	return true
}

// TestTruncatedEverywhere cuts small captures at every byte offset. A cut
// inside the file header is a fatal *FileError; anywhere after it the
// packets before the cut come back, and a cut inside a record is counted
// and told in a warning. Nothing panics.
func TestTruncatedEverywhere(t *testing.T) {
	for name, b := range srcSmallCaptures(t) {
		all, _ := srcDrain(t, srcOpenBytes(t, b))
		gz := strings.HasSuffix(name, "gzip")
		bounds := srcRecordBounds(b)
		for n := range len(b) {
			src, err := OpenFiles([]string{"-"}, bytes.NewReader(b[:n]))
			if err != nil {
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Fatalf("%s cut at %d: %v is not a *FileError", name, n, err)
				}
				continue
			}
			got, st, err := srcDrainErr(src)
			if err != nil {
				t.Fatalf("%s cut at %d: fatal %v", name, n, err)
			}
			if !srcIsPrefix(got, all) {
				t.Fatalf("%s cut at %d: %v is not a prefix of %v", name, n, got, all)
			}
			if st.CorruptRecords > 1 || int64(len(st.Warnings)) != st.CorruptRecords {
				t.Fatalf("%s cut at %d: stats %+v", name, n, st)
			}
			if gz {
				continue
			}
			if want := int64(1 - btoi(bounds[n])); st.CorruptRecords != want {
				t.Errorf("%s cut at %d: %d corrupt records, want %d", name, n, st.CorruptRecords, want)
			}
			if st.CorruptRecords == 1 && !strings.Contains(st.Warnings[0], "stdin: truncated at offset ") {
				t.Errorf("%s cut at %d: warning %q", name, n, st.Warnings[0])
			}
		}
	}
}

// srcRecordBounds returns the offsets at which records (pcap) or blocks
// (little-endian pcapng) of b end: cutting the file there loses nothing.
func srcRecordBounds(b []byte) map[int]bool {
	bounds := map[int]bool{}
	if bytes.HasPrefix(b, pcapNGMagic) {
		for off := 0; off+8 <= len(b); {
			off += int(binary.LittleEndian.Uint32(b[off+4:]))
			bounds[off] = true
		}
		return bounds
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if b[0] == 0xa1 {
		order = binary.BigEndian
	}
	for off := 24; off <= len(b); {
		bounds[off] = true
		if off+16 > len(b) {
			break
		}
		off += 16 + int(order.Uint32(b[off+8:]))
	}
	return bounds
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestTruncationWarning checks the offset a warning gives: the start of
// the record that was cut.
func TestTruncationWarning(t *testing.T) {
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")
	b := srcCapture(t, capwriter.PCAP, capwriter.Encap{}, ps)
	// Records: 16-byte header, then the frame (60 bytes for the 3
	// handshake segments). The 4th record starts at 24 + 3*76 = 252.
	got, st := srcDrain(t, srcOpenBytes(t, b[:260]))
	want := "stdin: truncated at offset 252 (the file was cut off; the 3 packets before it were analysed)"
	if len(got) != 3 || st.CorruptRecords != 1 || len(st.Warnings) != 1 || st.Warnings[0] != want {
		t.Errorf("%d packets, warnings %q; want %q", len(got), st.Warnings, want)
	}
}

// TestCorruptPcapngBlock damages a block length in the middle of a pcapng
// file: reading stops there with a warning naming the block's offset.
func TestCorruptPcapngBlock(t *testing.T) {
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")
	b := srcCapture(t, capwriter.PCAPNG, capwriter.Encap{}, ps)
	// Walk to the 5th packet block.
	off := 0
	var starts []int
	for off+8 <= len(b) {
		if binary.LittleEndian.Uint32(b[off:]) == ngBlockEPB {
			starts = append(starts, off)
		}
		off += int(binary.LittleEndian.Uint32(b[off+4:]))
	}
	for _, tc := range []struct {
		name   string
		damage func(b []byte, at int)
		msg    string
	}{
		{"length not a multiple of 4", func(b []byte, at int) { b[at+4]++ }, "bad block length"},
		{"length too small", func(b []byte, at int) { binary.LittleEndian.PutUint32(b[at+4:], 8) }, "bad block length 8"},
		{"huge length", func(b []byte, at int) { binary.LittleEndian.PutUint32(b[at+4:], 0xfffffff0) }, "bad block length"},
		{"trailer differs", func(b []byte, at int) { b[at+4] += 4 }, "at its end"},
		{"captured length too big", func(b []byte, at int) { binary.LittleEndian.PutUint32(b[at+20:], 4000) }, "does not fit"},
	} {
		d := bytes.Clone(b)
		tc.damage(d, starts[4])
		got, st := srcDrain(t, srcOpenBytes(t, d))
		want := "stdin: damaged record at offset " + strconv.Itoa(starts[4]) + " ("
		if len(got) != 4 || st.CorruptRecords != 1 || len(st.Warnings) != 1 ||
			!strings.HasPrefix(st.Warnings[0], want) || !strings.Contains(st.Warnings[0], tc.msg) {
			t.Errorf("%s: %d packets, warnings %q", tc.name, len(got), st.Warnings)
		}
	}
}

// TestCorruptGzip damages the compressed data: the stream ends where it
// fails, with a warning, never a fatal error.
func TestCorruptGzip(t *testing.T) {
	ps := srcConversation("10.0.0.1:1", "10.0.0.2:80")
	gz := srcGzip(t, srcCapture(t, capwriter.PCAP, capwriter.Encap{}, ps))
	crc := bytes.Clone(gz)
	crc[len(crc)-6] ^= 0xff // the CRC-32 in the trailer
	mid := bytes.Clone(gz)
	for i := len(mid) / 2; i < len(mid)/2+10; i++ {
		mid[i] ^= 0x55
	}
	for name, b := range map[string][]byte{"crc": crc, "deflate": mid, "cut": gz[:len(gz)/2]} {
		got, st := srcDrain(t, srcOpenBytes(t, b))
		if st.CorruptRecords != 1 || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "uncompressed data") {
			t.Errorf("%s: %d packets, stats %+v", name, len(got), st)
		}
		// More files than gzipAheadFiles are inflated as they are read,
		// by another decompressor: its damage reads the same.
		var paths []string
		for i := range gzipAheadFiles + 1 {
			paths = append(paths, srcTempFile(t, fmt.Sprintf("%s-%d.pcap.gz", name, i), b))
		}
		src, err := OpenFiles(paths, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		merged, mst := srcDrain(t, src)
		_, one, _ := strings.Cut(st.Warnings[0], ": ")
		if want := map[string]string{"crc": "damaged gzip data", "cut": "truncated"}[name]; !strings.Contains(one, want) {
			t.Errorf("%s: warning %q does not say %q", name, one, want)
		}
		if mst.CorruptRecords != int64(len(paths)) || len(merged) != len(got)*len(paths) {
			t.Errorf("%s in %d files: %d packets, %d corrupt records; want %d and %d", name, len(paths), len(merged),
				mst.CorruptRecords, len(got)*len(paths), len(paths))
		}
		for _, w := range mst.Warnings {
			if _, w, _ = strings.Cut(w, ": "); w != one {
				t.Errorf("%s in %d files: warning %q, want %q as for one file", name, len(paths), w, one)
			}
		}
	}
	// Damage right at the start spoils the file header: fatal.
	head := bytes.Clone(gz)
	for i := 10; i < 20; i++ {
		head[i] ^= 0x55
	}
	_, err := OpenFiles([]string{"-"}, bytes.NewReader(head))
	if !errors.Is(err, ErrBadHeader) || !strings.Contains(err.Error(), "damaged gzip data") {
		t.Errorf("damaged first block: %v", err)
	}
}

// TestRandomDamage flips random bytes of small captures: reading must end
// without a panic, a hang or a fatal error once the header opened.
func TestRandomDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 1000
	if testing.Short() {
		n = 100
	}
	for name, b := range srcSmallCaptures(t) {
		for range n {
			d := bytes.Clone(b)
			for range 1 + rng.IntN(4) {
				d[rng.IntN(len(d))] ^= byte(1 + rng.IntN(255))
			}
			src, err := OpenFiles([]string{"-"}, bytes.NewReader(d))
			if err != nil {
				continue
			}
			if _, _, err := srcDrainErr(src); err != nil {
				t.Fatalf("%s: fatal error %v on damaged input % x", name, err, d)
			}
		}
	}
}
