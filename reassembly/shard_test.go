package reassembly_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// connLog records each connection's events as text, per connection: a
// sharded run interleaves different connections' events but must give each
// connection the same events in the same order.
type connLog struct {
	mu     sync.Mutex
	events map[int][]string
}

func (l *connLog) add(id int, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events[id] = append(l.events[id], fmt.Sprintf(format, args...))
}

func (l *connLog) ConnectionOpened(c *reassembly.Conn) {
	l.add(c.ID, "open %d %s %s", c.Stream, c.Client, c.Server)
}
func (l *connLog) Request(c *reassembly.Conn, m *reassembly.Message) {
	l.add(c.ID, "req %s %s %d %d %s %v", m.Method, m.Target, m.FirstFrame, m.Frame, m.Time, m.GapsBefore)
}
func (l *connLog) Response(c *reassembly.Conn, req, m *reassembly.Message) {
	reqFrame := int64(-1)
	if req != nil {
		reqFrame = req.Frame
	}
	l.add(c.ID, "resp %d %d %d %d %v", reqFrame, m.Status, m.FirstFrame, m.Frame, m.Header)
}
func (l *connLog) ConnectionClosed(c *reassembly.Conn) { l.add(c.ID, "close %+v", *c) }

// idleTailCapture writes a capture whose first connections go quiet while
// another one's packets carry the clock past the idle timeout: in a sharded
// run the quiet connections' workers see none of those packets, yet must
// end them as idle, as one reassembler does.
func idleTailCapture(t *testing.T) string {
	var all capwriter.Packets
	for i := 0; i < 8; i++ {
		c := capwriter.NewConversation(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), 50000),
			netip.MustParseAddrPort("10.0.0.80:80"))
		c.Handshake()
		c.Send(capwriter.ToServer, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.Send(capwriter.ToClient, []byte("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n"))
		all = append(all, c.Packets()...)
	}
	late := capwriter.NewConversation(netip.MustParseAddrPort("10.2.0.1:40000"), netip.MustParseAddrPort("10.0.0.80:80"))
	late.Base = capwriter.DefaultBase.Add(time.Second)
	late.Step = 4 * time.Minute // SYN, SYN-ACK, ACK: the ACK 8 minutes in
	late.Handshake()
	all = append(all, late.Packets()...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	data, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{}, all)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "idle-tail.pcapng")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// reorderedCapture writes a capture of 3,000 interleaved HTTP connections
// whose responses arrive out of order (the body's first segment after its
// second, the header block after both), so that every connection goes
// through gopacket's assembler rather than the in-order fast path. The
// assembler keys such segments on the TCP layer's port bytes: a worker must
// not read them from a buffer the reader has moved on in (it did once, and
// reports of reordered captures changed from run to run).
func reorderedCapture(t *testing.T) string {
	const conns = 3000
	convs := make([]capwriter.Packets, conns)
	body := bytes.Repeat([]byte("b"), 1400)
	for i := range convs {
		c := capwriter.NewConversation(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 3, byte(i >> 8), byte(i)}), 50000),
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(80 + i%4)}), 80))
		c.MSS = 700
		c.Handshake()
		c.Send(capwriter.ToServer, []byte("GET /r HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.Send(capwriter.ToClient, []byte("HTTP/1.1 200 OK\r\nContent-Length: 1400\r\n\r\n"))
		c.Send(capwriter.ToClient, body)
		c.Close()
		// 0-2 handshake, 3 request, 4 response header, 5 and 6 body.
		convs[i] = c.Packets().Permute(0, 1, 2, 3, 6, 5, 4, 7, 8, 9)
	}
	var all capwriter.Packets
	for k := 0; k < len(convs[0]); k++ {
		for _, ps := range convs {
			all = append(all, ps[k])
		}
	}
	all = all.Restamp(capwriter.DefaultBase, time.Millisecond)
	data, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{}, all)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "reordered.pcapng")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestShardedIdentical: sharding reassembly over several workers gives every
// connection the same events (IDs, stream indexes, messages, frames, end
// reasons) and the same counts as one reassembler.
func TestShardedIdentical(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "shared", "captures", "*.pcap*"))
	for _, glob := range []string{"../testdata/lab/*.pcap", "../testdata/synth/*.pcapng", "../cmd/ntlmscope/testdata/regression/*.pcap"} {
		more, _ := filepath.Glob(glob)
		paths = append(paths, more...)
	}
	b := &testing.B{}
	gen, _ := benchCapture(b, 40, 5)
	defer os.Remove(gen)
	paths = append(paths, gen, idleTailCapture(t), reorderedCapture(t))
	run := func(t *testing.T, path string, workers int) (map[int][]string, reassembly.StreamStats) {
		src, err := reassembly.OpenFiles([]string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		l := &connLog{events: map[int][]string{}}
		st, err := reassembly.Run(src, l, reassembly.Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return l.events, st
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, wantStats := run(t, path, 1)
			if len(want) == 0 {
				t.Fatal("no events")
			}
			if strings.HasPrefix(filepath.Base(path), "idle-tail") {
				idle := 0
				for _, ev := range want {
					if strings.Contains(ev[len(ev)-1], "Ended:idle") {
						idle++
					}
				}
				if idle != 8 {
					t.Fatalf("one reassembler ended %d connections as idle, want 8: %v", idle, want)
				}
			}
			for _, workers := range []int{2, 3, 8} {
				got, gotStats := run(t, path, workers)
				if !reflect.DeepEqual(gotStats, wantStats) {
					t.Errorf("workers %d: stats %+v, want %+v", workers, gotStats, wantStats)
				}
				if len(got) != len(want) {
					t.Errorf("workers %d: %d connections, want %d", workers, len(got), len(want))
				}
				for id, ev := range want {
					if !reflect.DeepEqual(got[id], ev) {
						t.Errorf("workers %d: connection %d:\n%q\nwant\n%q", workers, id, got[id], ev)
						break
					}
				}
			}
		})
	}
}
