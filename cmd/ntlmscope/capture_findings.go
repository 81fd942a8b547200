package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/reassembly"
	"github.com/ntlmscope/ntlmscope/report"
)

// findingsEvery is how often a capture looks for new findings: often
// enough that a sysadmin sees a failed login while still at the
// keyboard, rarely enough that a diagnosis of thousands of connections
// costs little (analyzer.Snapshot).
const findingsEvery = 2 * time.Second

// liveFindings shows each finding once, as a capture detects it. A
// goroutine of its own diagnoses what the analyzer has seen every period
// (the analyzer copies its state under its lock, so the capture goes on
// meanwhile, on the other core); the capture's goroutine picks up the
// latest snapshot between packets (poll), writes a live_finding record of
// each new finding to the NDJSON stream, if any, and hands back the lines
// to print, so that the status line and the findings share standard error
// without a lock.
type liveFindings struct {
	an    *analyzer.Analyzer
	w     *report.LiveWriter
	every time.Duration

	latest     atomic.Pointer[analyzer.Report] // the newest snapshot not polled yet
	quit, done chan struct{}

	// Used by the capture's goroutine only.
	shown map[findingKey]bool
	count int   // findings of the latest snapshot polled
	err   error // the stream's write error, told once
}

// findingKey names a finding across snapshots: its code, the time of its
// first occurrence and its first connection. A finding that aggregates
// occurrences keeps them as more occur (later ones, on connections with
// higher ids), so it is shown once, when first seen, while its count and
// message grow.
type findingKey struct {
	code string
	time int64
	conn int
}

func keyOf(f analyzer.Finding) findingKey {
	k := findingKey{code: f.Code, time: f.Time.UnixNano(), conn: -1}
	if len(f.Connections) > 0 {
		k.conn = f.Connections[0]
	}
	return k
}

func newLiveFindings(an *analyzer.Analyzer, w *report.LiveWriter, every time.Duration) *liveFindings {
	return &liveFindings{an: an, w: w, every: every, quit: make(chan struct{}), done: make(chan struct{}),
		shown: map[findingKey]bool{}}
}

// snapshotShare bounds the time spent diagnosing snapshots: after one
// that took d, the next waits at least snapshotShare×d. A snapshot copies
// every connection seen so far, so a capture that runs for hours would
// otherwise spend ever more of a core on it; this way it stays under a
// tenth of one, and findings come later only on such captures.
const snapshotShare = 10

// start begins the periodic snapshots.
func (l *liveFindings) start() {
	go func() {
		defer close(l.done)
		t := time.NewTimer(l.every)
		defer t.Stop()
		for {
			select {
			case <-l.quit:
				return
			case <-t.C:
				began := time.Now()
				l.latest.Store(l.an.Snapshot(reassembly.SourceStats{}))
				t.Reset(max(l.every, snapshotShare*time.Since(began)))
			}
		}
	}()
}

// stop ends the snapshots and waits for one under way: the analyzer must
// not be snapshotted once FinishStreaming runs.
func (l *liveFindings) stop() {
	select {
	case <-l.quit:
	default:
		close(l.quit)
	}
	<-l.done
}

// poll returns the lines of the findings of the latest snapshot not shown
// before (nil when there is no new snapshot), and writes their records.
func (l *liveFindings) poll() []string {
	snap := l.latest.Swap(nil)
	if snap == nil {
		return nil
	}
	l.count = len(snap.Findings)
	return l.show(snap)
}

// final shows the findings of the final report not shown before: those
// of the last seconds, and those only the end of the capture completed
// (a connection closed by the stop). Only the report's top-level fields
// are read, never its connections.
func (l *liveFindings) final(rep *analyzer.Report) []string {
	l.count = len(rep.Findings)
	return l.show(&analyzer.Report{Users: rep.Users, Backends: rep.Backends, Findings: rep.Findings})
}

// show writes and returns the new findings of snap, which it may change.
func (l *liveFindings) show(snap *analyzer.Report) []string {
	var fresh []analyzer.Finding
	for _, f := range snap.Findings {
		if k := keyOf(f); !l.shown[k] {
			l.shown[k] = true
			fresh = append(fresh, f)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	snap.Findings = fresh
	written, err := l.w.Write(snap)
	lines := make([]string, 0, len(written)+1)
	for _, f := range written {
		lines = append(lines, report.LiveLine(f))
	}
	if err != nil && l.err == nil {
		l.err = err
		lines = append(lines, "warning: cannot write the live findings to the report stream: "+err.Error())
	}
	return lines
}

// splitStream takes the main report out of outs when it is NDJSON: a
// capture streams it, live_finding records first, then the final
// report's records in the same stream.
func splitStream(outs []output) (stream *output, rest []output) {
	i := slices.IndexFunc(outs, func(o output) bool { return o.main && o.format == "ndjson" })
	if i < 0 {
		return nil, outs
	}
	main := outs[i]
	return &main, slices.Delete(outs, i, i+1)
}

// openStream opens the NDJSON stream of a capture: standard output, or
// the -o file, written as the capture goes (not through a temporary
// file: a reader follows it). With no stream, w is nil. close may be
// called more than once.
func openStream(ios *IOStreams, stream *output) (w io.Writer, close func() error, err error) {
	nop := func() error { return nil }
	switch {
	case stream == nil:
		return nil, nop, nil
	case stream.path == "":
		return ios.Out, nop, nil
	}
	f, err := os.Create(stream.path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot write the report: %w", err)
	}
	var once sync.Once
	var cerr error
	return f, func() error { once.Do(func() { cerr = f.Close() }); return cerr }, nil
}

// outputSharing returns the sharing rules of a run's reports (every
// output has the same, with one anonymization key).
func outputSharing(outs []output, stream *output) report.Options {
	if stream != nil {
		return stream.opts
	}
	if len(outs) > 0 {
		return outs[0].opts
	}
	return report.Options{}
}
