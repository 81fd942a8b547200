package analyzer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// snapshotter passes events to an analyzer and snapshots the whole
// analyzer (root) after every event, as a live capture does every few
// seconds. With several workers each shard's events go through a
// snapshotter of their own, so snapshots run concurrently with other
// shards' events and with each other.
type snapshotter struct {
	h     reassembly.Handler
	root  *Analyzer
	n     *atomic.Int64 // snapshots taken
	every int64         // snapshot after every n-th event (1: all)
	seen  *atomic.Int64 // events seen
}

func newSnapshotter(a *Analyzer, every int64) *snapshotter {
	return &snapshotter{h: a, root: a, n: new(atomic.Int64), every: every, seen: new(atomic.Int64)}
}

func (s *snapshotter) snap() {
	if s.seen.Add(1)%s.every != 0 {
		return
	}
	s.root.Findings()
	s.n.Add(1)
}

func (s *snapshotter) ConnectionOpened(c *reassembly.Conn) { s.h.ConnectionOpened(c); s.snap() }
func (s *snapshotter) Request(c *reassembly.Conn, m *reassembly.Message) {
	s.h.Request(c, m)
	s.snap()
}
func (s *snapshotter) Response(c *reassembly.Conn, req, resp *reassembly.Message) {
	s.h.Response(c, req, resp)
	s.snap()
}
func (s *snapshotter) ConnectionClosed(c *reassembly.Conn) { s.h.ConnectionClosed(c); s.snap() }

// Shard implements reassembly.ShardedHandler.
func (s *snapshotter) Shard(i, n int) reassembly.Handler {
	return &snapshotter{h: s.root.Shard(i, n), root: s.root, n: s.n, every: s.every, seen: s.seen}
}

// labSets groups the lab captures by scenario (client and upstream legs
// together, as the lab analyses them), with the scenario's key log.
func labSets(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "lab", "*.pcap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lab captures: %v", err)
	}
	sets := map[string][]string{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".pcap"), "-client"), "-upstream")
		sets[name] = append(sets[name], f)
	}
	return sets
}

// analyzeFiles runs files through the reassembler into an analyzer, with a
// snapshot every `every` events (0: none), and returns the final report
// as JSON, the findings of a snapshot taken after the last event (before
// FinishStreaming) and how many snapshots were taken.
func analyzeFiles(t *testing.T, files []string, workers int, every int64) (report []byte, last []Finding, snaps int64) {
	t.Helper()
	src, err := reassembly.OpenFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var keys *reassembly.KeyLog
	for _, f := range files {
		if kl := strings.TrimSuffix(f, ".pcap") + ".keylog"; fileExists(kl) {
			if keys, err = reassembly.LoadKeyLogs(kl); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := New(Options{HashKey: testKey, ToolVersion: "test", Files: files})
	var h reassembly.Handler = a
	var sn *snapshotter
	if every > 0 {
		sn = newSnapshotter(a, every)
		h = sn
	}
	if _, err := reassembly.Run(src, h, reassembly.Options{Workers: workers, KeyLog: keys}); err != nil {
		t.Fatal(err)
	}
	if sn != nil {
		snaps = sn.n.Load()
		last = a.Findings()
	}
	r := a.FinishStreaming(src.Stats())
	r.Materialize()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b, last, snaps
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestSnapshotChangesNothing: snapshots after every event leave the final
// report identical, byte for byte, and a snapshot after the last event
// has the final report's findings. Run with -race, the sharded runs check
// that snapshots are safe while several workers deliver events.
func TestSnapshotChangesNothing(t *testing.T) {
	sets := labSets(t)
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		files := sets[name]
		for _, workers := range []int{1, 3} {
			t.Run(name+"/workers="+string(rune('0'+workers)), func(t *testing.T) {
				want, _, _ := analyzeFiles(t, files, workers, 0)
				got, last, snaps := analyzeFiles(t, files, workers, 1)
				if snaps == 0 {
					t.Fatal("no snapshot taken")
				}
				if !bytes.Equal(got, want) {
					t.Errorf("the report changed after %d snapshots:\n got %s\nwant %s", snaps, got, want)
				}
				var final Report
				if err := json.Unmarshal(want, &final); err != nil {
					t.Fatal(err)
				}
				if len(final.Findings) == 0 && name != "scenario1-direct-keepalive" && name != "scenario8-one-handshake-many-requests" {
					t.Logf("%s: no findings", name)
				}
				sameFindings(t, last, final.Findings)
			})
		}
	}
}

// TestSnapshotFromAnotherGoroutine snapshots in a loop from a goroutine
// of its own, as the capture command does, while the events arrive (one
// worker: the root analyzer's lock; several: the shards'). Run with -race.
func TestSnapshotFromAnotherGoroutine(t *testing.T) {
	files := labSets(t)["scenario4-nginx-upstream-keepalive"]
	for _, workers := range []int{1, 2} {
		want, _, _ := analyzeFiles(t, files, workers, 0)
		src, err := reassembly.OpenFiles(files, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := New(Options{HashKey: testKey, ToolVersion: "test", Files: files})
		quit, done := make(chan struct{}), make(chan int)
		go func() {
			n := 0
			for {
				select {
				case <-quit:
					done <- n
					return
				default:
					a.Snapshot(reassembly.SourceStats{})
					n++
				}
			}
		}()
		_, err = reassembly.Run(src, a, reassembly.Options{Workers: workers})
		close(quit)
		n := <-done
		if err != nil {
			t.Fatal(err)
		}
		r := a.FinishStreaming(src.Stats())
		src.Close()
		r.Materialize()
		got, _ := json.Marshal(r)
		if !bytes.Equal(got, want) {
			t.Errorf("workers=%d: the report changed after %d concurrent snapshots", workers, n)
		}
		t.Logf("workers=%d: %d snapshots during the run", workers, n)
	}
}

// sameFindings compares two finding lists through their JSON form (as the
// report writes them).
func sameFindings(t *testing.T, got, want []Finding) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("snapshot findings differ from the report's:\n got %s\nwant %s", g, w)
	}
}

// TestSnapshotScripts replays every scripted case (outcomes, correlation,
// legs, regressions: splits, relays, interleaving, misrouted Type 3s) with
// a snapshot after every event: the final report is unchanged, and a
// snapshot after the last event has its findings.
func TestSnapshotScripts(t *testing.T) {
	var cases []outcomeCase
	for _, cs := range [][]outcomeCase{outcomeCases(), correlationCases(), legCases(), regressionCases()} {
		cases = append(cases, cs...)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plain := newScript(t)
			tc.play(plain)
			want, err := json.Marshal(plain.finish())
			if err != nil {
				t.Fatal(err)
			}

			s := newScript(t)
			sn := newSnapshotter(s.a, 1)
			s.h = sn
			tc.play(s)
			for _, o := range s.open {
				if !o.closed {
					o.endAs(reassembly.EndCapture)
				}
			}
			last := s.a.Findings()
			r := s.a.Finish(s.stats())
			got, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the report changed after %d snapshots:\n got %s\nwant %s", sn.n.Load(), got, want)
			}
			sameFindings(t, last, r.Findings)
		})
	}
}

// TestSnapshotOpenConnections: a failed login is a finding as soon as
// its final response arrived, while its connection is still open; a
// handshake waiting for its Type 3 is no finding yet (it is incomplete,
// not abandoned); the snapshot leaves the open connection to be closed
// and reported as usual.
func TestSnapshotOpenConnections(t *testing.T) {
	s := newScript(t)
	a := s.conn(client1, vip)
	a.anon(server)
	ch := a.t1(server, "WEB01")
	if fs := s.a.Findings(); len(fs) != 0 {
		t.Errorf("a handshake waiting for its Type 3 is reported: %+v", fs)
	}
	a.t3(server, `CORP\alice`, ch, 401)
	fs := s.a.Findings()
	if len(fs) != 1 || fs[0].Code != CodeAuthFailed || !slices.Equal(fs[0].Users, []string{`CORP\alice`}) {
		t.Fatalf("findings after the 401: %+v", fs)
	}
	snap := s.a.Snapshot(s.stats())
	if snap.Summary.HandshakesFailed != 1 || snap.Summary.Connections != 1 || snap.ConnectionCount() != 0 || snap.Source.TCPConnections != 1 {
		t.Errorf("snapshot summary %+v, %d connections listed, source %+v", snap.Summary, snap.ConnectionCount(), snap.Source)
	}
	r := s.finish()
	if r.Connections[0].Ended != reassembly.EndCapture.String() || r.Summary.HandshakesFailed != 1 {
		t.Errorf("final report: ended %s, summary %+v", r.Connections[0].Ended, r.Summary)
	}
	sameFindings(t, fs, r.Findings)
}

// BenchmarkSnapshot measures a snapshot halfway through a capture (some
// connections open), the capture command's cost every 2 s: the small
// synthetic capture of testdata, and the 20 MB synthetic mix of
// BenchmarkAnalyzer. "Finish" is FinishStreaming on the same state, for
// comparison.
func BenchmarkSnapshot(b *testing.B) {
	small := &recorder{}
	src, err := reassembly.OpenFiles([]string{filepath.Join("..", "testdata", "synth", "small.pcapng")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := reassembly.Run(src, small, reassembly.Options{}); err != nil {
		b.Fatal(err)
	}
	src.Close()
	mix, _ := syntheticEvents(b, 20_000_000)
	for _, tc := range []struct {
		name   string
		events []event
	}{{"small", small.events}, {"synth20MB", mix}} {
		a := New(Options{HashKey: testKey})
		replay(a, tc.events[:len(tc.events)/2])
		open := len(a.byConn)
		snap := a.Snapshot(reassembly.SourceStats{})
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Snapshot(reassembly.SourceStats{})
			}
			b.ReportMetric(float64(snap.Summary.Connections), "conns")
			b.ReportMetric(float64(open), "open")
			b.ReportMetric(float64(len(snap.Findings)), "findings")
		})
		b.Run(tc.name+"/Finish", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				a := New(Options{HashKey: testKey})
				replay(a, tc.events[:len(tc.events)/2])
				b.StartTimer()
				a.FinishStreaming(reassembly.SourceStats{})
			}
		})
	}
}
