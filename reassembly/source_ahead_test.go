package reassembly

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// TestReadAhead: packets read ahead of a file come back from next in the
// file's order, whole, with the packets read after them, however early
// the reading ahead stopped; it reports the file's end only when no packet
// was stamped after the time given.
func TestReadAhead(t *testing.T) {
	read := func(t *testing.T, ahead func(f *captureFile)) (frames []int64, payloads [][]byte) {
		t.Helper()
		// Payloads that differ: a packet read ahead must keep its own
		// bytes, whatever the reader's buffers hold later.
		c := capwriter.NewConversation(netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80"))
		c.MSS = 2
		c.Handshake()
		c.Send(capwriter.ToServer, []byte("abcdefghijklmnopqrstuvwxyz0123456789"))
		c.Close()
		ps := c.Packets().Restamp(capwriter.DefaultBase, time.Millisecond)
		path := srcTempFile(t, "a.pcap", srcCapture(t, capwriter.PCAP, capwriter.Encap{}, ps))
		src, err := OpenFiles([]string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		f := src.(*mergeSource).files[0]
		for i := 0; ; i++ {
			p, err := f.next()
			if err == io.EOF {
				return frames, payloads
			}
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, p.Frame)
			payloads = append(payloads, bytes.Clone(p.TCP.Payload))
			if i == 2 && ahead != nil {
				ahead(f)
			}
		}
	}
	wantFrames, wantPayloads := read(t, nil)
	start := func(f *captureFile) time.Time { return f.pkt.Time }
	for _, tc := range []struct {
		name  string
		until time.Duration // after the pending packet
		limit int
		ended bool
		queue int // packets left read ahead
	}{
		{"to the end", time.Hour, aheadBytes, true, 21},
		{"to a packet after until", 5*time.Millisecond + time.Microsecond, aheadBytes, false, 6},
		{"to the limit", time.Hour, 3 * aheadPacketCost, false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames, payloads := read(t, func(f *captureFile) {
				pending := f.pkt.Frame
				ended := f.readAhead(start(f).Add(tc.until), tc.limit)
				if ended != tc.ended || len(f.ahead) != tc.queue {
					t.Errorf("readAhead: ended %v with %d packets ahead, want %v with %d", ended, len(f.ahead), tc.ended, tc.queue)
				}
				if f.pkt.Frame != pending {
					t.Errorf("the pending packet is frame %d after reading ahead, want %d", f.pkt.Frame, pending)
				}
				// Asked again, it reads on from where it stopped.
				if again := f.readAhead(start(f).Add(tc.until), tc.limit); again != ended {
					t.Errorf("readAhead again: %v, want %v", again, ended)
				}
			})
			if len(frames) != len(wantFrames) {
				t.Fatalf("%d packets, want %d", len(frames), len(wantFrames))
			}
			for i := range frames {
				if frames[i] != wantFrames[i] || !bytes.Equal(payloads[i], wantPayloads[i]) {
					t.Errorf("packet %d: frame %d, payload %q; want %d, %q", i, frames[i], payloads[i], wantFrames[i], wantPayloads[i])
				}
			}
		})
	}
}

// TestMergeShortCapturesSideBySide: two captures made side by side for
// some traffic, each shorter than overlapTol (a lab's, on loopback), each
// begin with a connection's SYN: the one that begins second does not
// continue the other, and their packets are merged by time; whether they
// are named otherwise or alike but for a number.
func TestMergeShortCapturesSideBySide(t *testing.T) {
	for _, names := range [][2]string{{"client.pcap", "upstream.pcap"}, {"leg_00001.pcap", "leg_00002.pcap"}} {
		t.Run(names[0], func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for i, port := range []uint16{50000, 50001} {
				c := capwriter.NewConversation(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), netip.MustParseAddrPort("10.0.0.2:80"))
				c.Handshake()
				c.Send(capwriter.ToServer, []byte("GET / HTTP/1.1\r\n\r\n"))
				c.Close()
				ps := c.Packets().Restamp(capwriter.DefaultBase.Add(time.Duration(i)*time.Millisecond), 2*time.Millisecond)
				paths = append(paths, writeCapture(t, dir, names[i], ps))
			}
			src, err := OpenFiles(paths, nil)
			if err != nil {
				t.Fatal(err)
			}
			times, st := srcTimes(t, src)
			if st.Chain != nil && st.Chain[1] != 1 {
				t.Errorf("chain %v: the second capture continues the first", st.Chain)
			}
			if !slices.IsSortedFunc(times, time.Time.Compare) {
				t.Errorf("not merged by time: %v", times)
			}
		})
	}
}

// TestMergeRingNextFileStartsWithSYN: a ring buffer's third file begins
// with a new connection's SYN stamped a moment before the last packet of
// the second: the second already continues the first, so the third
// continues the second, and the connection open across the boundary goes
// on whole.
func TestMergeRingNextFileStartsWithSYN(t *testing.T) {
	one := xConversation(50000, 20).Restamp(capwriter.DefaultBase, time.Millisecond)
	two := xConversation(50001, 20).Restamp(one[9].Time.Add(-time.Microsecond), time.Millisecond)
	third := append(slices.Clone(two[:1]), one[10:]...)
	third = append(third, two[1:]...)
	slices.SortStableFunc(third[1:], func(a, b capwriter.Packet) int { return a.Time.Compare(b.Time) })
	dir := t.TempDir()
	var paths []string
	for i, part := range []capwriter.Packets{one[:5], one[5:10], third} {
		paths = append(paths, writeCapture(t, dir, fmt.Sprintf("ring_%05d.pcap", i+1), part))
	}
	segs, st := srcDrainFiles(t, paths)
	if !slices.Equal(st.Chain, []int{0, 0, 0}) || !slices.Equal(st.FrameBase, []int64{0, 5, 10}) {
		t.Errorf("chain %v, frame bases %v; want [0 0 0], [0 5 10]", st.Chain, st.FrameBase)
	}
	if !slices.IsSortedFunc(segs, func(a, b srcSeg) int { return cmp.Compare(a.Frame, b.Frame) }) {
		t.Errorf("frames out of capture order: %v", segs)
	}
}

// TestMergeTwoHostsRingBuffers: two hosts' ring buffers given together,
// each named alike (as dumpcap names a ring's files), overlap in time: the
// files of each follow on from each other, whatever the other host's files
// do, also across a boundary whose next file starts a moment before the
// last packet of the one before; the files of one never continue the
// other's.
func TestMergeTwoHostsRingBuffers(t *testing.T) {
	// A millisecond apart, the two hosts' files overlap briefly; 60 ms
	// apart, for longer than overlapTol (side by side).
	for _, step := range []time.Duration{time.Millisecond, 60 * time.Millisecond} {
		t.Run(step.String(), func(t *testing.T) { testTwoHostsRingBuffers(t, step) })
	}
}

func testTwoHostsRingBuffers(t *testing.T, step time.Duration) {
	dir := t.TempDir()
	var paths []string
	var wantChain []int
	var wantBase []int64
	for _, host := range []struct {
		name  string
		port  uint16
		start time.Duration // after the first host's first packet
		sizes []int
		early int // the file stamped to start a moment before the one before ends (0: none)
	}{
		{"hosta", 50000, 0, []int{5, 6, 4, 7}, 2},
		{"hostb", 50001, step / 2, []int{4, 7, 5, 6}, 0},
	} {
		ps := xConversation(host.port, 40).Restamp(capwriter.DefaultBase.Add(host.start), step)
		first, off := len(paths), 0
		for i, n := range host.sizes {
			part := slices.Clone(ps[off : off+n])
			if i > 0 && i == host.early {
				part[0].Time = ps[off-1].Time.Add(-time.Microsecond)
			}
			paths = append(paths, writeCapture(t, dir, fmt.Sprintf("%s_%05d.pcap", host.name, i+1), part))
			wantChain, wantBase = append(wantChain, first), append(wantBase, int64(off))
			off += n
		}
	}
	segs, st := srcDrainFiles(t, paths)
	if !slices.Equal(st.Chain, wantChain) || !slices.Equal(st.FrameBase, wantBase) {
		t.Fatalf("chain %v, frame bases %v; want %v, %v", st.Chain, st.FrameBase, wantChain, wantBase)
	}
	last := map[int]int64{} // chain → its last frame
	for _, g := range segs {
		chain := st.Chain[g.File]
		if g.Frame <= last[chain] {
			t.Errorf("file %d: frame %d of chain %d after frame %d", g.File, g.Frame, chain, last[chain])
		}
		last[chain] = g.Frame
	}
}

// FuzzMergeChains: files cut from two conversations, their sizes, names
// (two stems) and time shifts given by the fuzzer, merged: every packet
// comes back once, each file's in its order, each chain's frames rising,
// and the frame locator gives every frame back as its own file numbers it.
func FuzzMergeChains(f *testing.F) {
	f.Add([]byte{3, 0, 0, 4, 0, 0, 5, 0, 0})
	f.Add([]byte{5, 0, 0, 6, 0xff, 0xfe, 4, 0, 0})
	f.Add([]byte{0x85, 0, 0, 0x83, 0, 10, 0x06, 0xff, 0xff, 0x84, 0, 0, 2, 0x80, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		var pool [2]capwriter.Packets
		for i := range pool {
			pool[i] = xConversation(uint16(50000+i), 40).Restamp(capwriter.DefaultBase.Add(time.Duration(i)*time.Millisecond/3), time.Millisecond)
		}
		dir := t.TempDir()
		var paths []string
		sizes := map[int]int{}
		for len(prog) >= 3 && len(paths) < 24 {
			// A file: its stem and conversation (top bit), size (low
			// bits, 1-8), and its packets' shift in 40 µs steps.
			conv, n := int(prog[0]>>7), 1+int(prog[0]&7)
			shift := time.Duration(int16(uint16(prog[1])<<8|uint16(prog[2]))) * 40 * time.Microsecond
			prog = prog[3:]
			if len(pool[conv]) < n {
				break
			}
			part := slices.Clone(pool[conv][:n])
			pool[conv] = pool[conv][n:]
			for j := range part {
				part[j].Time = part[j].Time.Add(shift)
			}
			p := filepath.Join(dir, fmt.Sprintf("host%c_%05d.pcap", 'a'+conv, len(paths)))
			if err := os.WriteFile(p, srcCapture(t, capwriter.PCAP, capwriter.Encap{}, part), 0o644); err != nil {
				t.Fatal(err)
			}
			sizes[len(paths)] = n
			paths = append(paths, p)
		}
		if len(paths) == 0 {
			return
		}
		segs, st := srcDrainFiles(t, paths)
		loc := NewFrameLocator(st)
		own := map[int]int64{}
		last := map[int]int64{}
		for _, g := range segs {
			own[g.File]++
			chain, base := g.File, int64(0)
			if st.Chain != nil {
				chain, base = st.Chain[g.File], st.FrameBase[g.File]
			}
			if g.Frame != base+own[g.File] {
				t.Fatalf("file %d: frame %d, want %d", g.File, g.Frame, base+own[g.File])
			}
			if g.Frame <= last[chain] {
				t.Fatalf("chain %d: frame %d after %d", chain, g.Frame, last[chain])
			}
			last[chain] = g.Frame
			if file, n := loc.Locate(chain, g.Frame); file != g.File || n != own[g.File] {
				t.Fatalf("Locate(%d, %d) = %d, %d; want %d, %d", chain, g.Frame, file, n, g.File, own[g.File])
			}
		}
		for i, n := range sizes {
			if own[i] != int64(n) {
				t.Fatalf("file %d: %d packets, want %d", i, own[i], n)
			}
		}
	})
}

// TestMergeOtherCaptureKeepsOffRing: a ring buffer (three files) and
// another host's capture, named otherwise, that begins (inside a
// connection, or with a SYN) 50 ms before the end of one of the ring's
// files, or between two of them: the ring stays one chain, and the other
// capture continues none of its files.
func TestMergeOtherCaptureKeepsOffRing(t *testing.T) {
	for _, tc := range []struct {
		boundary int           // the ring file the other capture begins near the end of
		at       time.Duration // from that file's last packet
		syn      bool
		name     string // the other capture's
	}{
		{0, -50 * time.Millisecond, false, "server.pcap"},
		{1, -50 * time.Millisecond, false, "server.pcap"},
		{1, -50 * time.Millisecond, true, "server.pcap"},
		{0, 5 * time.Millisecond, false, "server.pcap"}, // between the files, 10 ms apart
		{1, 5 * time.Millisecond, true, "server.pcap"},
		// Named as the ring's files are but for their numbers.
		{0, -50 * time.Millisecond, true, "client.pcap"},
		{0, -500 * time.Millisecond, false, "client.pcap"},
	} {
		t.Run(fmt.Sprintf("%s at %v of file %d syn %v", tc.name, tc.at, tc.boundary, tc.syn), func(t *testing.T) {
			dir := t.TempDir()
			ring := xConversation(50000, 100).Restamp(capwriter.DefaultBase, 10*time.Millisecond)
			var paths []string
			write := func(name string, ps capwriter.Packets) {
				paths = append(paths, writeCapture(t, dir, name, ps))
			}
			parts := []capwriter.Packets{ring[:20], ring[20:40], ring[40:]}
			for i, part := range parts {
				write(fmt.Sprintf("client_%05d.pcap", i+1), part)
			}
			other := xConversation(50001, 200)
			if !tc.syn {
				other = other[3:] // begins inside the connection
			}
			end := parts[tc.boundary][len(parts[tc.boundary])-1].Time
			write(tc.name, other.Restamp(end.Add(tc.at), 10*time.Millisecond))
			if _, st := srcDrainFiles(t, paths); !slices.Equal(st.Chain, []int{0, 0, 0, 3}) {
				t.Errorf("chain %v, frame bases %v; want [0 0 0 3]", st.Chain, st.FrameBase)
			}
		})
	}
}

// xConversation returns a connection from 10.0.0.1:port to 10.0.0.2:80 that
// sends n bytes of 'x' two at a time and closes.
func xConversation(port uint16, n int) capwriter.Packets {
	c := capwriter.NewConversation(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), netip.MustParseAddrPort("10.0.0.2:80"))
	c.MSS = 2
	c.Handshake()
	c.Send(capwriter.ToServer, bytes.Repeat([]byte{'x'}, n))
	c.Close()
	return c.Packets()
}

// writeCapture writes ps as a pcap named name in dir, and returns its path.
func writeCapture(t testing.TB, dir, name string, ps capwriter.Packets) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, srcCapture(t, capwriter.PCAP, capwriter.Encap{}, ps), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
