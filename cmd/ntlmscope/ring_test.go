package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// splitCapture writes the packets of the pcap at path into len(cuts)+1
// files, as a ring buffer or editcap -c would: file i holds the packets
// from cuts[i-1] (0-based) to cuts[i]. It returns the files and how many
// packets come before each. With drop, the packet of that index (0-based)
// is left out first (-1: none).
func splitCapture(t *testing.T, path string, cuts []int, drop int) ([]string, []int64) {
	t.Helper()
	r := readPcap(t, path)
	dir := t.TempDir()
	var paths []string
	var bases []int64
	var w *pcapgo.Writer
	var out *os.File
	n := 0
	next := func() {
		if out != nil {
			out.Close()
		}
		p := filepath.Join(dir, fmt.Sprintf("ring_%05d.pcap", len(paths)))
		var err error
		out, err = os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w = pcapgo.NewWriterNanos(out)
		if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
			t.Fatal(err)
		}
		paths, bases = append(paths, p), append(bases, int64(n))
	}
	next()
	for i := 0; ; i++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if i == drop {
			continue
		}
		if len(paths) <= len(cuts) && n == cuts[len(paths)-1] {
			next()
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
		n++
	}
	out.Close()
	return paths, bases
}

// stampBack rewrites each file but the first so that its first packet is
// stamped back before the last packet of the file before.
func stampBack(t *testing.T, paths []string, back time.Duration) {
	t.Helper()
	var last time.Time
	for i, p := range paths {
		r := readPcap(t, p)
		var out bytes.Buffer
		w := pcapgo.NewWriterNanos(&out)
		if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
			t.Fatal(err)
		}
		for j := 0; ; j++ {
			pkt, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			if j == 0 && i > 0 {
				ci.Timestamp = last.Add(-back)
			}
			last = ci.Timestamp
			if err := w.WritePacket(ci, pkt); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// analyzeJSON runs analyze on files and decodes its JSON report.
func analyzeJSON(t *testing.T, files ...string) *analyzer.Report {
	t.Helper()
	code, out, errOut := runAnalyze(t, false, append([]string{"--format", "json"}, files...)...)
	if code != exitOK {
		t.Fatalf("analyze %v: exit %d: %s", files, code, errOut)
	}
	var r analyzer.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestAnalyzeRingBuffer: a capture split into files that follow each
// other (a ring buffer's) gives the report the whole capture gives: the
// same verdict, handshakes and counts, the connections whole, each frame
// numbered in its own file (as Wireshark shows it when it opens that
// file) and each connection's tcp.stream in every file it crossed (as
// tshark numbers that file, when tshark is here).
func TestAnalyzeRingBuffer(t *testing.T) {
	_, tsharkErr := exec.LookPath("tshark")
	for _, tc := range []struct {
		name string
		drop int // a packet left out of the capture first (-1: none)
		cuts [][]int
	}{
		{"scenario2-haproxy-keepalive-client", -1, [][]int{{7}, {9, 18}, {4, 8, 12, 16, 20, 24, 28}}},
		{"scenario4-nginx-upstream-keepalive-upstream", -1, [][]int{{7}, {9, 18}, {4, 8, 12, 16, 20, 24, 28}}},
		{"scenario5-wrong-password-client", -1, [][]int{{7}, {9, 18}, {4, 8, 12, 16}}},
		// Without the client's FIN (frame 18), the server closes the
		// first connection only after the Type 3 went on the second,
		// which starts in the second file: the client split the
		// handshake, which frames of one chain still tell.
		{"scenario7-client-new-connection-per-leg-client", 17, [][]int{{17}}},
		// Handshakes split across connections that start in different
		// files (every 9 packets, as editcap -c 9 cuts it).
		{"scenario10-balancer-round-robin-https-upstream", -1, [][]int{{9, 18, 27, 36, 45, 54, 63}}},
	} {
		name := tc.name
		whole := filepath.Join("..", "..", "testdata", "lab", name+".pcap")
		if tc.drop >= 0 {
			kept, _ := splitCapture(t, whole, nil, tc.drop)
			whole = kept[0]
		}
		want := analyzeJSON(t, whole)
		// back stamps each file's first packet that long before the last
		// packet of the file before, as packets received on several
		// queues are stamped out of order: the files still follow each
		// other.
		for _, back := range []time.Duration{0, time.Microsecond} {
			for _, cuts := range tc.cuts {
				t.Run(fmt.Sprintf("%s/%v/back %v", name, cuts, back), func(t *testing.T) {
					paths, bases := splitCapture(t, whole, cuts, -1)
					if back > 0 {
						stampBack(t, paths, back)
					}
					got := analyzeJSON(t, paths...)
					if got.Verdict.Code != want.Verdict.Code || got.Summary.Handshakes != want.Summary.Handshakes ||
						got.Summary.HandshakesSucceeded != want.Summary.HandshakesSucceeded ||
						got.Summary.HandshakesFailed != want.Summary.HandshakesFailed ||
						got.Summary.HTTPRequests != want.Summary.HTTPRequests || got.Summary.Connections != want.Summary.Connections {
						t.Fatalf("split: %s, %+v\nwhole: %s, %+v", got.Verdict.Code, got.Summary, want.Verdict.Code, want.Summary)
					}
					if len(got.Connections) != len(want.Connections) {
						t.Fatalf("%d connections, want %d", len(got.Connections), len(want.Connections))
					}
					streams := map[[2]int64]int{} // (file, frame) → tcp.stream, from tshark
					if tsharkErr == nil {
						for i, p := range paths {
							out, err := exec.Command("tshark", "-r", p, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream").Output()
							if err != nil {
								t.Fatal(err)
							}
							for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
								if f := strings.Fields(line); len(f) == 2 {
									n, _ := strconv.ParseInt(f[0], 10, 64)
									s, _ := strconv.Atoi(f[1])
									streams[[2]int64{int64(i), n}] = s
								}
							}
						}
					}
					located := 0
					for i, c := range got.Connections {
						w := want.Connections[i]
						stream := map[int]int{c.File: c.TCPStream}
						for _, p := range c.Parts {
							stream[p.File] = p.TCPStream
						}
						// frame checks that the frame (file, n) of c is the whole
						// capture's frame wantFrame, and lies in c's tcp.stream
						// of that file.
						frame := func(what string, file int, n, wantFrame int64, onC bool) {
							if n == 0 && wantFrame == 0 {
								return
							}
							located++
							if file < 0 || file >= len(bases) || bases[file]+n != wantFrame {
								t.Errorf("connection %d: %s frame %d in file %d, want the whole capture's frame %d", c.ID, what, n, file, wantFrame)
								return
							}
							if s, ok := streams[[2]int64{int64(file), n}]; ok && onC && s != stream[file] {
								t.Errorf("connection %d: %s frame %d of file %d is tcp.stream %d in tshark, the report says %d", c.ID, what, n, file, s, stream[file])
							}
						}
						if len(c.Exchanges) != len(w.Exchanges) || len(c.Handshakes) != len(w.Handshakes) {
							t.Fatalf("connection %d: %d exchanges, %d handshakes; want %d, %d", c.ID, len(c.Exchanges), len(c.Handshakes), len(w.Exchanges), len(w.Handshakes))
						}
						fileOf := func(p *int) int {
							if p != nil {
								return *p
							}
							return c.File
						}
						for j, x := range c.Exchanges {
							frame("request", fileOf(x.RequestFile), x.RequestFrame, w.Exchanges[j].RequestFrame, true)
							frame("response", fileOf(x.ResponseFile), x.ResponseFrame, w.Exchanges[j].ResponseFrame, true)
						}
						for j, h := range c.Handshakes {
							wh := w.Handshakes[j]
							if h.Outcome != wh.Outcome || h.User != wh.User {
								t.Errorf("handshake %d: %s %s, want %s %s", h.ID, h.Outcome, h.User, wh.Outcome, wh.User)
							}
							files := analyzer.HandshakeFiles{Type1: c.File, Type2: c.File, Type3: c.File, Final: c.File}
							if h.FrameFiles != nil {
								files = *h.FrameFiles
							}
							// A split handshake has steps on other connections.
							onC := len(h.Connections) == 1
							frame("type1", files.Type1, h.Frames.Type1, wh.Frames.Type1, onC)
							frame("type2", files.Type2, h.Frames.Type2, wh.Frames.Type2, onC)
							frame("type3", files.Type3, h.Frames.Type3, wh.Frames.Type3, onC)
							frame("final", files.Final, h.Frames.Final, wh.Frames.Final, onC)
						}
					}
					if located == 0 {
						t.Error("no frame was checked")
					}
				})
			}
		}
	}
}

// TestAnalyzeTwoHostsRingBuffers: both legs of a balancer, each captured
// as a ring buffer of its own and given together, give the report the two
// whole captures give: each ring's files follow on from each other, never
// from the other host's, so every connection is whole and each leg is told
// as with the whole captures; in rings of three files or of five packets a
// file, and with each file's first packet stamped a moment before the last
// of the file before.
func TestAnalyzeTwoHostsRingBuffers(t *testing.T) {
	lab := filepath.Join("..", "..", "testdata", "lab")
	for _, name := range []string{"scenario3-balancer-round-robin", "scenario4-nginx-upstream-keepalive", "scenario7-client-new-connection-per-leg"} {
		legs := []string{filepath.Join(lab, name+"-client.pcap"), filepath.Join(lab, name+"-upstream.pcap")}
		for _, per := range []int{0, 5} { // packets a file (0: three files)
			for _, back := range []time.Duration{0, time.Microsecond} {
				t.Run(fmt.Sprintf("%s/%d/back %v", name, per, back), func(t *testing.T) {
					// The whole legs, as the rings stamp their packets: a
					// microsecond moves the lab's tokens' delays enough
					// to change a report.
					var paths, whole []string
					for _, leg := range legs {
						n := pcapCount(t, leg)
						cuts := []int{n / 3, 2 * n / 3}
						if per > 0 {
							cuts = nil
							for c := per; c < n; c += per {
								cuts = append(cuts, c)
							}
						}
						ring, _ := splitCapture(t, leg, cuts, -1)
						if back > 0 {
							stampBack(t, ring, back)
						}
						paths, whole = append(paths, ring...), append(whole, joinCaptures(t, ring))
					}
					want := analyzeJSON(t, whole...)
					got := analyzeJSON(t, paths...)
					if got.Verdict.Code != want.Verdict.Code || got.Summary != want.Summary {
						t.Fatalf("rings: %s, %+v\nwhole: %s, %+v", got.Verdict.Code, got.Summary, want.Verdict.Code, want.Summary)
					}
					conns := func(r *analyzer.Report) []string {
						var out []string
						for _, c := range r.Connections {
							out = append(out, fmt.Sprintf("%s→%s %s %d requests", c.Client, c.Server, c.Leg, c.Requests))
						}
						slices.Sort(out)
						return out
					}
					if g, w := conns(got), conns(want); !slices.Equal(g, w) {
						t.Errorf("connections\n got  %q\n want %q", g, w)
					}
				})
			}
		}
	}
}

// joinCaptures writes the packets of the pcaps at paths, one after the
// other, into one pcap, and returns its path.
func joinCaptures(t *testing.T, paths []string) string {
	t.Helper()
	var out bytes.Buffer
	var w *pcapgo.Writer
	for _, p := range paths {
		r := readPcap(t, p)
		if w == nil {
			w = pcapgo.NewWriterNanos(&out)
			if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
				t.Fatal(err)
			}
		}
		for {
			pkt, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			if err := w.WritePacket(ci, pkt); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := filepath.Join(t.TempDir(), "whole.pcap")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pcapCount returns how many packets the pcap at path holds.
func pcapCount(t *testing.T, path string) int {
	t.Helper()
	r := readPcap(t, path)
	n := 0
	for {
		if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
			return n
		}
		n++
	}
}

// readPcap returns a reader of the pcap at path, read whole first (so
// that the file may be written again while it is read).
func readPcap(t *testing.T, path string) *pcapgo.Reader {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRingBufferFormats: every format names the files a connection went on
// into and its tcp.stream there, and the file of a frame that is not in the
// connection's first file.
func TestRingBufferFormats(t *testing.T) {
	paths, _ := splitCapture(t, filepath.Join("..", "..", "testdata", "lab", "scenario1-direct-keepalive-client.pcap"), []int{7}, -1)
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{"markdown", []string{"`tcp.stream eq 0` in ring_00000.pcap; `tcp.stream eq 0` in ring_00001.pcap"}},
		{"csv", []string{",parts\n", ",1:0\n"}},
		{"html", []string{"; tcp.stream eq 0 in ring_00001.pcap", "frame 1 in ring_00001.pcap"}},
		{"json", []string{`"parts":[{"file":1,"tcp_stream":0}]`, `"request_file":1`, `"frame_files":{"type1":0,"type2":0,"type3":1,"final":1}`}},
	} {
		args := []string{"--format", tc.format}
		switch tc.format {
		case "csv":
			args = append(args, "--table", "connections")
		case "markdown", "html":
			args = append(args, "-v")
		}
		code, out, errOut := runAnalyze(t, false, append(args, paths...)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.format, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in:\n%.3000s", tc.format, w, out)
			}
		}
	}
}
