package reassembly_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

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
	paths = append(paths, gen)
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
