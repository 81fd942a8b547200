package reassembly

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// chainFiles writes one conversation's packets, step apart (a millisecond
// when 0), into files of the given sizes, each shifted by its delay (0
// follows on; negative overlaps the file before), and returns their paths:
// one directory's ring_00001.pcap, ring_00002.pcap… (one ring buffer's
// names).
func chainFiles(t *testing.T, sizes []int, shift []time.Duration, step time.Duration) []string {
	t.Helper()
	return chainFilesNamed(t, nil, sizes, shift, step)
}

// chainFilesNamed is chainFiles with the files' names (nil: a ring's).
func chainFilesNamed(t *testing.T, names []string, sizes []int, shift []time.Duration, step time.Duration) []string {
	t.Helper()
	dir := t.TempDir()
	ps := xConversation(50000, 40).Restamp(capwriter.DefaultBase, cmp.Or(step, time.Millisecond))
	var paths []string
	for i, n := range sizes {
		part := slices.Clone(ps[:n])
		ps = ps[n:]
		for j := range part {
			part[j].Time = part[j].Time.Add(shift[i])
		}
		name := fmt.Sprintf("ring_%05d.pcap", i+1)
		if names != nil {
			name = names[i]
		}
		paths = append(paths, writeCapture(t, dir, name, part))
	}
	return paths
}

// TestMergeChainsFilesThatFollowEachOther: files that follow each other in
// time (a ring buffer's) form a chain: their packets name the chain's first
// file, their frames count on through it, and FrameLocator gives each
// frame back as its own file numbers it. Files that overlap in time are
// separate captures, and so are the files after an overlap.
func TestMergeChainsFilesThatFollowEachOther(t *testing.T) {
	for _, tc := range []struct {
		name      string
		files     []string // the files' names (nil: one ring buffer's)
		sizes     []int
		shift     []time.Duration
		step      time.Duration
		chain     []int
		frameBase []int64
	}{
		{"ring", nil, []int{5, 6, 4}, []time.Duration{0, 0, 0}, 0, []int{0, 0, 0}, []int64{0, 5, 11}},
		{"overlap", nil, []int{5, 6}, []time.Duration{0, -300 * time.Millisecond}, 100 * time.Millisecond, []int{0, 1}, []int64{0, 0}},
		{"after an overlap", nil, []int{5, 6, 4}, []time.Duration{0, -300 * time.Millisecond, time.Second}, 100 * time.Millisecond,
			[]int{0, 1, 2}, []int64{0, 0, 0}},
		// A ring buffer's next file stamped to start 3 ms before the
		// file before it ends (packets stamped out of order across the
		// boundary): the file before is read to its end first, and the
		// next follows on.
		{"a moment's overlap", nil, []int{5, 6, 4}, []time.Duration{0, -3 * time.Millisecond, 0}, 0,
			[]int{0, 0, 0}, []int64{0, 5, 11}},
		// The same in a ring of more files than a run holds open: file 9
		// starts 1.5 ms before the last packet of file 8.
		{"a moment's overlap in a ring of 19", nil, append(append(slices.Repeat([]int{1}, 8), 3), append(slices.Repeat([]int{1}, 9), 2)...),
			append(make([]time.Duration, 9), append([]time.Duration{-1500 * time.Microsecond}, make([]time.Duration, 9)...)...), 0,
			make([]int, 19), []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}},
		// Two hosts' captures whose clocks are a minute apart do not
		// overlap, but do not follow each other either.
		{"a minute later", nil, []int{5, 6}, []time.Duration{0, time.Minute}, 0, []int{0, 1}, []int64{0, 0}},
		{"a few seconds later", nil, []int{5, 6}, []time.Duration{0, 9 * time.Second}, 0, []int{0, 0}, []int64{0, 5}},
		// More files than a run holds open (parkFiles): each is opened
		// again when its turn comes.
		{"ring of 20", nil, append(slices.Repeat([]int{1}, 19), 3), make([]time.Duration, 20), 0, make([]int, 20),
			[]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
		// Files named otherwise (split by hand) follow on from each other
		// by their times alone, but a moment's overlap cuts them.
		{"named otherwise", []string{"before.pcap", "after.pcap", "later.pcap"}, []int{5, 6, 4}, []time.Duration{0, 0, 0}, 0,
			[]int{0, 0, 0}, []int64{0, 5, 11}},
		{"named otherwise, a moment's overlap", []string{"before.pcap", "after.pcap", "later.pcap"}, []int{5, 6, 4},
			[]time.Duration{0, -3 * time.Millisecond, 0}, 0, []int{0, 1, 1}, []int64{0, 0, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			paths := chainFilesNamed(t, tc.files, tc.sizes, tc.shift, tc.step)
			fds := openFDs(t)
			src, err := OpenFiles(paths, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := openFDs(t); len(paths) > parkFiles && n > fds {
				t.Errorf("%d files open after opening %d, want none left open", n-fds, len(paths))
			}
			var got [][3]int64 // file, frame in file, chain
			var raw []int64
			var times []time.Time
			for {
				p, err := src.Next()
				if err != nil {
					break
				}
				raw, times = append(raw, p.Frame), append(times, p.Time)
				got = append(got, [3]int64{int64(p.File), p.Frame, int64(p.Chain)})
				if n := openFDs(t); len(paths) > parkFiles && n > fds+1 {
					t.Errorf("%d files open at once, want 1", n-fds)
				}
			}
			st := src.Stats()
			src.Close()
			if !slices.Equal(st.Chain, tc.chain) || !slices.Equal(st.FrameBase, tc.frameBase) {
				t.Fatalf("chain %v, frame bases %v; want %v, %v", st.Chain, st.FrameBase, tc.chain, tc.frameBase)
			}
			// A chain's packets come in the order they were captured:
			// its files' order, each file's own order.
			if slices.Max(tc.chain) == 0 && !slices.IsSorted(raw) {
				t.Errorf("frames of one chain out of order: %v", raw)
			}
			// Files side by side are merged by time, the packets read
			// ahead of one (to see whether it ends) in their turn.
			if slices.Equal(tc.chain, []int{0, 1}) && !slices.IsSortedFunc(times, time.Time.Compare) {
				t.Errorf("files side by side not merged by time: %v", times)
			}
			loc := NewFrameLocator(st)
			// A locator exists exactly when a file follows another.
			if (loc != nil) != (tc.chain[len(tc.chain)-1] != len(tc.chain)-1) {
				t.Fatalf("locator %v for chain %v", loc, st.Chain)
			}
			frame := map[int]int64{}
			for i, g := range got {
				file := int(g[0])
				frame[file]++
				if g[2] != int64(tc.chain[file]) {
					t.Errorf("packet %d of file %d: chain %d, want %d", i, file, g[2], tc.chain[file])
				}
				if g[1] != frame[file]+tc.frameBase[file] {
					t.Errorf("packet %d of file %d: frame %d, want %d", i, file, g[1], frame[file]+tc.frameBase[file])
				}
				// Any file of the chain locates the frame.
				for _, from := range []int{tc.chain[file], file} {
					if f, n := loc.Locate(from, raw[i]); f != file || n != frame[file] {
						t.Errorf("Locate(%d, %d) = %d, %d; want %d, %d", from, raw[i], f, n, file, frame[file])
					}
				}
			}
		})
	}
}

// TestFrameLocatorManyFiles: a ring buffer of hundreds of files, given in
// any order, beside a file of its own: every frame of the chain is found in
// its file, and the lone file's frames are left as they are.
func TestFrameLocatorManyFiles(t *testing.T) {
	const n, per = 500, 3
	st := SourceStats{Chain: make([]int, n+1), FrameBase: make([]int64, n+1)}
	order := rand.New(rand.NewPCG(1, 2)).Perm(n) // file index of the chain's k-th file
	for k, f := range order {
		st.Chain[f], st.FrameBase[f] = order[0], int64(k*per)
	}
	st.Chain[n] = n // a capture of its own
	loc := NewFrameLocator(st)
	for k, f := range order {
		for i := int64(1); i <= per; i++ {
			if gf, gi := loc.Locate(order[n-1], int64(k*per)+i); gf != f || gi != i {
				t.Fatalf("frame %d of the chain: file %d frame %d, want file %d frame %d", int64(k*per)+i, gf, gi, f, i)
			}
		}
	}
	if f, i := loc.Locate(n, 7); f != n || i != 7 || loc.Chained(n) {
		t.Errorf("the lone file's frame 7: file %d frame %d (chained %v)", f, i, loc.Chained(n))
	}
}

// openFDs counts the process's open file descriptors (Linux; elsewhere
// 0, and the checks pass).
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(es)
}

// TestMergeProgressWhileParked: Progress, which a progress bar calls from
// another goroutine, reads nothing Next changes when it opens a parked file
// again or retires one read to its end (run it with -race), and at the end
// it counts every byte of every file, those of a file parked with no TCP
// packet too.
func TestMergeProgressWhileParked(t *testing.T) {
	paths := chainFiles(t, append(slices.Repeat([]int{1}, 19), 3), make([]time.Duration, 20), 0)
	// A file of one ARP frame: no TCP packet at all.
	var arp bytes.Buffer
	w := capwriter.NewWriter(&arp, capwriter.PCAP)
	if err := w.WriteFrame(layers.LinkTypeEthernet, capwriter.DefaultBase, append(append(make([]byte, 12), 0x08, 0x06), make([]byte, 46)...)); err != nil {
		t.Fatal(err)
	}
	udp := srcTempFile(t, "arp.pcap", arp.Bytes())
	src, err := OpenFiles(append(paths, udp), nil)
	if err != nil {
		t.Fatal(err)
	}
	pr := src.(ProgressReporter)
	stop := make(chan struct{})
	polled := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				polled <- n
				return
			default:
				pr.Progress()
				n++
			}
		}
	}()
	for {
		if _, err := src.Next(); err != nil {
			break
		}
	}
	close(stop)
	<-polled
	if read, total := pr.Progress(); read != total || total == 0 {
		t.Errorf("progress %d of %d at the end", read, total)
	}
	src.Close()
}

// TestMergeParkedSecretsAndPipes: with more files than a run holds open,
// a file's Decryption Secrets Blocks are read into the run's key log once,
// though the file is read twice up to its first packet (park, unpark); and
// an input that cannot be opened again (a FIFO) is never parked.
func TestMergeParkedSecretsAndPipes(t *testing.T) {
	paths := chainFiles(t, slices.Repeat([]int{1}, 17), make([]time.Duration, 17), 0)
	// File 3 again, as pcapng with a secrets block before its packet.
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.9.9.9:50000"), netip.MustParseAddrPort("10.0.0.2:80"))
	c.Handshake()
	secrets := []byte("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n")
	ps := c.Packets().Restamp(capwriter.DefaultBase.Add(time.Hour), time.Millisecond)
	paths = append(paths, srcTempFile(t, "dsb.pcapng", dsbCapture(t, []capwriter.Packets{ps}, [][]byte{secrets})))
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	go func() {
		// The FIFO's writer: one capture of a conversation two hours on.
		c := capwriter.NewConversation(netip.MustParseAddrPort("10.8.8.8:50000"), netip.MustParseAddrPort("10.0.0.2:80"))
		c.Handshake()
		b, _ := capwriter.Bytes(capwriter.PCAP, capwriter.Encap{}, c.Packets().Restamp(capwriter.DefaultBase.Add(2*time.Hour), time.Millisecond))
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Write(b)
			f.Close()
		}
	}()
	src, err := OpenFiles(append(paths, fifo), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := EmbeddedKeyLogs(src)
	segs, st := srcDrain(t, src)
	fromFIFO := 0
	for _, s := range segs {
		if s.File == len(paths) {
			fromFIFO++
		}
	}
	if fromFIFO != 3 || st.TCP != int64(len(segs)) {
		t.Errorf("%d packets from the FIFO, want 3 (stats %+v)", fromFIFO, st)
	}
	blocks := 0
	for _, k := range keys {
		blocks += k.Stats().Blocks
	}
	if blocks != 1 {
		t.Errorf("%d secrets blocks read into the run's key logs, want 1", blocks)
	}
}

// TestMergeParkedFileRemoved: a parked file removed before its turn (a ring
// buffer deleting its oldest files while the run reads) is skipped with a
// warning that names it; the run reads every other file.
func TestMergeParkedFileRemoved(t *testing.T) {
	paths := chainFiles(t, slices.Repeat([]int{1}, 20), make([]time.Duration, 20), 0)
	src, err := OpenFiles(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(paths[6]); err != nil {
		t.Fatal(err)
	}
	segs, st := srcDrain(t, src)
	if len(segs) != 19 || st.TCP != 19 {
		t.Errorf("%d packets (stats: %d TCP), want the 19 of the other files", len(segs), st.TCP)
	}
	for _, s := range segs {
		if s.File == 6 {
			t.Errorf("a packet of the removed file: %v", s)
		}
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], filepath.Base(paths[6])) || !strings.Contains(st.Warnings[0], "skipped") {
		t.Errorf("warnings %q, want one that names %s", st.Warnings, filepath.Base(paths[6]))
	}
	if read, total := src.(ProgressReporter).Progress(); read != total {
		t.Errorf("progress %d of %d at the end", read, total)
	}
}
