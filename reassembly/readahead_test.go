package reassembly_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// eventLog records events as text.
type eventLog struct{ lines []string }

func (l *eventLog) ConnectionOpened(c *reassembly.Conn) {
	l.lines = append(l.lines, fmt.Sprintf("open %d %d %s %s", c.ID, c.Stream, c.Client, c.Server))
}
func (l *eventLog) Request(c *reassembly.Conn, m *reassembly.Message) {
	l.lines = append(l.lines, fmt.Sprintf("req %d %s %s %d %d %s", c.ID, m.Method, m.Target, m.FirstFrame, m.Frame, m.Time))
}
func (l *eventLog) Response(c *reassembly.Conn, _, m *reassembly.Message) {
	l.lines = append(l.lines, fmt.Sprintf("resp %d %d %d %d %v", c.ID, m.Status, m.FirstFrame, m.Frame, m.Header))
}
func (l *eventLog) ConnectionClosed(c *reassembly.Conn) {
	l.lines = append(l.lines, fmt.Sprintf("close %+v", *c))
}

func runLog(t testing.TB, src reassembly.Source) ([]string, reassembly.SourceStats) {
	l := &eventLog{}
	if _, err := reassembly.Run(src, l, reassembly.Options{}); err != nil {
		t.Fatal(err)
	}
	return l.lines, src.Stats()
}

// TestReadAheadIdentical: reading ahead in another goroutine changes
// nothing in the events or the counts.
func TestReadAheadIdentical(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "shared", "captures", "*.pcap*"))
	b := &testing.B{}
	gen, _ := benchCapture(b, 30, 5)
	paths = append(paths, gen)
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := reassembly.OpenFiles([]string{path}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, wantStats := runLog(t, src)
			src.Close()
			src, err = reassembly.OpenFiles([]string{path}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ra := reassembly.ReadAhead(src)
			got, gotStats := runLog(t, ra)
			if err := ra.Close(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("events differ with read-ahead:\n%v\nwant\n%v", got, want)
			}
			if !reflect.DeepEqual(gotStats, wantStats) {
				t.Errorf("stats %+v, want %+v", gotStats, wantStats)
			}
			if len(want) == 0 {
				t.Error("no events")
			}
		})
	}
	os.Remove(gen)
}
