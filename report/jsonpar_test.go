package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// renderJSONWith renders r as JSON with the connections built and encoded
// by workers goroutines taking chunk connections at a time (workers 1: in
// the caller, one at a time).
func renderJSONWith(r *analyzer.Report, opts Options, w *bytes.Buffer, workers, chunk int) error {
	m := newModel(r, newScrubber(opts))
	return jsonRenderer{workers: workers, chunk: chunk}.render(w, m)
}

// jsonTestReports returns the reports the JSON writer is tested on: the
// fixtures, a hostile and an empty report, and the stream inputs' captures
// analysed both streaming and finished.
func jsonTestReports(t *testing.T) map[string]*analyzer.Report {
	t.Helper()
	reports := map[string]*analyzer.Report{"hostile": hostileReport(), "zero": {}}
	for name, f := range fixtures() {
		reports[name] = f()
	}
	for _, in := range streamInputs(t) {
		name := fmt.Sprint(filepath.Base(in[0]), "+", len(in)-1)
		reports[name+" streaming"] = analyzeStreaming(t, in...)
		reports[name] = analyzeFinished(t, in...)
	}
	return reports
}

// TestJSONInParallel: the connections built and encoded on several
// goroutines, in runs of any size, make the bytes of the serial writer,
// for streaming and materialized reports of real captures and for the
// fixtures.
func TestJSONInParallel(t *testing.T) {
	reports := jsonTestReports(t)
	for name, r := range reports {
		for _, opts := range []Options{{}, {KeepQuery: true}} {
			var want bytes.Buffer
			if err := renderJSONWith(r, opts, &want, 1, 0); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, workers := range []int{2, 3} {
				for _, chunk := range []int{1, 2, 7, connChunk} {
					var got bytes.Buffer
					if err := renderJSONWith(r, opts, &got, workers, chunk); err != nil {
						t.Fatalf("%s, %d workers, runs of %d: %v", name, workers, chunk, err)
					}
					if !bytes.Equal(got.Bytes(), want.Bytes()) {
						t.Errorf("%s, %d workers, runs of %d: differs from the serial writer:\n%s",
							name, workers, chunk, firstDiff(want.Bytes(), got.Bytes()))
					}
				}
			}
		}
	}
}

// TestCompactJSON: the compact layout (files and pipes) is the indented
// document with its insignificant white space dropped, as json.Compact
// drops it, ending in one newline; serial and parallel alike.
func TestCompactJSON(t *testing.T) {
	reports := jsonTestReports(t)
	for name, r := range reports {
		var indented bytes.Buffer
		if err := renderJSONWith(r, Options{}, &indented, 1, 0); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want bytes.Buffer
		if err := json.Compact(&want, indented.Bytes()); err != nil {
			t.Fatalf("%s: the indented report is not JSON: %v", name, err)
		}
		want.WriteByte('\n')
		for _, run := range []struct{ workers, chunk int }{{1, 0}, {3, 2}} {
			var got bytes.Buffer
			m := newModel(r, newScrubber(Options{}))
			if err := (jsonRenderer{compact: true, workers: run.workers, chunk: run.chunk}).render(&got, m); err != nil {
				t.Fatalf("%s, %d workers: %v", name, run.workers, err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("%s, %d workers: compact JSON differs from the compacted indented report:\n%s",
					name, run.workers, firstDiff(want.Bytes(), got.Bytes()))
			}
		}
	}
}

// TestJSONInParallelFails: a connection encoding/json would refuse stops
// the parallel writer as it stops the serial one, after the same bytes
// and with the same error; so does a writer that fails part way.
func TestJSONInParallelFails(t *testing.T) {
	r := healthyReport()
	base := r.Connections[0]
	r.Connections = nil
	for i := range 40 {
		c := base
		c.ID = i + 1
		if i == 25 {
			c.Handshakes = []analyzer.Handshake{{DurationMs: math.NaN()}}
		}
		r.Connections = append(r.Connections, c)
	}
	var want bytes.Buffer
	wantErr := renderJSONWith(r, Options{}, &want, 1, 0)
	if wantErr == nil {
		t.Fatal("the serial writer encoded a NaN")
	}
	for _, chunk := range []int{1, 3, 25, 26, 100} {
		var got bytes.Buffer
		err := renderJSONWith(r, Options{}, &got, 2, chunk)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("runs of %d: error %v, the serial writer's %v", chunk, err, wantErr)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("runs of %d: wrote other bytes than the serial writer before failing:\n%s",
				chunk, firstDiff(want.Bytes(), got.Bytes()))
		}
	}

	r.Connections[25] = base
	var whole bytes.Buffer
	if err := renderJSONWith(r, Options{}, &whole, 1, 0); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{10, whole.Len() / 3, whole.Len() - 10} {
		w := &limitWriter{limit: limit}
		m := newModel(r, newScrubber(Options{}))
		err := jsonRenderer{workers: 3, chunk: 1}.render(w, m)
		if !errors.Is(err, errLimit) {
			t.Errorf("writer failing after %d bytes: error %v", limit, err)
		}
	}
}

var errLimit = errors.New("write failed")

// limitWriter accepts limit bytes, then fails with errLimit.
type limitWriter struct{ limit, n int }

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, errLimit
	}
	w.n += len(p)
	return len(p), nil
}
