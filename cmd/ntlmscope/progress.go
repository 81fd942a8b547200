package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// The progress bar is drawn here rather than with a library: the ones that
// fit (schollz/progressbar, cheggaaa/pb) read the wall clock inside, so a
// test cannot drive them with a fake one; they redraw when told of progress
// where we poll a counter, so a goroutine and the one-second delay before
// the bar appears would be ours anyway; and they bring three or four modules
// for what is one line of text, drawn as capture's status line is.

// progressAfter is how long a run goes before its progress bar appears, so
// that a quick run prints nothing. A variable so tests can shorten it.
var progressAfter = time.Second

const (
	// progressEvery is how often the bar is redrawn.
	progressEvery = 250 * time.Millisecond
	// progressWindow is the span of recent progress the rate, and so the
	// ETA, is measured over: long enough to smooth over bursts, short
	// enough to follow when the rate changes.
	progressWindow = 5 * time.Second
	// progressWidth is the number of cells of the bar itself. The whole
	// line stays under 80 columns: a line wider than the terminal wraps,
	// and "\r" would then redraw only its last row.
	progressWidth = 20
)

// progressWanted reports whether a run should show a progress bar: only
// when standard error is a terminal that understands the escape that
// erases a line, and the user did not turn the bar off. NO_COLOR needs
// nothing: the bar has no colour.
func progressWanted(ios *IOStreams, off bool) bool {
	return !off && ios.StderrTTY && os.Getenv("TERM") != "dumb"
}

// startProgress shows a progress bar on standard error while src is read,
// when progressWanted, src can tell its progress (the Source of
// reassembly.OpenFiles, before it is wrapped) and the run lasts longer
// than progressAfter. Pass the Source before wrapping it: its progress
// counters are safe to read from the bar's goroutine.
//
// The returned stop erases the bar and waits until it is gone, and reports
// whether the bar was ever drawn (the run was long). Call it before
// anything else is written to standard error or the report to standard
// output; calling it again does nothing (and reports the same).
func startProgress(ios *IOStreams, src reassembly.Source, off bool) (stop func() (shown bool)) {
	pr, ok := src.(reassembly.ProgressReporter)
	if !ok || !progressWanted(ios, off) {
		return func() bool { return false }
	}
	b := newProgressBar(ios.ErrOut, pr, time.Now())
	done, finished := make(chan struct{}), make(chan struct{})
	drawn := false // written by the goroutine, read after finished
	// Every write to the terminal happens in this goroutine, the last one
	// before finished is closed, so nothing of the bar can follow stop.
	go func() {
		defer close(finished)
		delay := time.NewTimer(progressAfter)
		defer delay.Stop()
		select {
		case <-done:
			return
		case <-delay.C:
		}
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		drawn = true
		for {
			b.draw(time.Now())
			select {
			case <-done:
				b.clear()
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() bool {
		once.Do(func() {
			close(done)
			<-finished
		})
		return drawn
	}
}

// showPhase writes what a long run does after reading (the diagnosis and
// the reports take a few seconds on a large capture) on standard error, on
// one line that the returned function erases. It writes nothing unless the
// progress bar was shown, and nothing when the report itself goes to the
// terminal, where the line would interleave with it.
func showPhase(ios *IOStreams, barShown, reportOnTerminal bool, msg string) (clear func()) {
	if !barShown || reportOnTerminal {
		return func() {}
	}
	fmt.Fprint(ios.ErrOut, eraseLine+msg)
	return func() { fmt.Fprint(ios.ErrOut, eraseLine) }
}

// progressSample is how many bytes had been read at a time.
type progressSample struct {
	at   time.Time
	read int64
}

// progressBar draws one line that says how far reading has got:
//
//	[=========>          ]  45%  912.3 MB / 2.0 GB  98.2 MB/s  ETA 11s
//
// or, when the total is unknown (a pipe), the bytes read and the rate. It
// is not safe for concurrent use; startProgress runs it in one goroutine.
type progressBar struct {
	w       io.Writer
	src     reassembly.ProgressReporter
	samples []progressSample // oldest first, spanning about progressWindow
	shown   bool
}

// newProgressBar returns a bar for src, which started being read at start.
func newProgressBar(w io.Writer, src reassembly.ProgressReporter, start time.Time) *progressBar {
	read, _ := src.Progress()
	return &progressBar{w: w, src: src, samples: []progressSample{{start, read}}}
}

// draw replaces the line on the terminal with the bar as of now.
func (b *progressBar) draw(now time.Time) {
	fmt.Fprint(b.w, eraseLine+b.line(now))
	b.shown = true
}

// clear erases the bar, if it was drawn.
func (b *progressBar) clear() {
	if b.shown {
		fmt.Fprint(b.w, eraseLine)
		b.shown = false
	}
}

// line is the bar's text as of now.
func (b *progressBar) line(now time.Time) string {
	read, total := b.src.Progress()
	rate := b.rate(now, read)
	speed := byteCount(int64(rate)) + "/s"
	if total <= 0 {
		return byteCount(read) + " read  " + speed
	}
	read = min(read, total) // a file that grows while it is read
	frac := float64(read) / float64(total)
	full := int(frac * progressWidth)
	bar := strings.Repeat("=", full)
	if full < progressWidth {
		bar += ">" + strings.Repeat(" ", progressWidth-full-1)
	}
	eta := "--"
	if rate > 0 {
		eta = time.Duration(float64(total-read) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s] %3d%%  %s / %s  %s  ETA %s",
		bar, int(frac*100), byteCount(read), byteCount(total), speed, eta)
}

// rate records that read bytes had been read at now and returns the bytes
// per second since the newest sample at least progressWindow old (the
// start, early on).
func (b *progressBar) rate(now time.Time, read int64) float64 {
	b.samples = append(b.samples, progressSample{now, read})
	i := 0
	for i+1 < len(b.samples) && now.Sub(b.samples[i+1].at) >= progressWindow {
		i++
	}
	b.samples = append(b.samples[:0], b.samples[i:]...)
	from := b.samples[0]
	dt := now.Sub(from.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(read-from.read) / dt
}
