package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/syncbuf"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// fakeProgress is a source whose progress a test sets.
type fakeProgress struct {
	mu          sync.Mutex
	read, total int64
}

func (f *fakeProgress) set(read int64) {
	f.mu.Lock()
	f.read = read
	f.mu.Unlock()
}

func (f *fakeProgress) Progress() (read, total int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.read, f.total
}

// progressSourceFake is a reassembly.Source with a fake progress.
type progressSourceFake struct {
	reassembly.Source // nil: startProgress calls only Progress
	*fakeProgress
}

// setProgressAfter sets how long runs go before the bar appears, for one
// test.
func setProgressAfter(t *testing.T, d time.Duration) {
	old := progressAfter
	progressAfter = d
	t.Cleanup(func() { progressAfter = old })
}

func TestProgressBarLine(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name        string
		read, total int64
		after       time.Duration
		want        string
	}{
		{"under way", 900e6, 2e9, 9 * time.Second,
			"[=========>          ]  45%  900.0 MB / 2.0 GB  100.0 MB/s  ETA 11s"},
		{"minutes left", 100e6, 10e9, 10 * time.Second,
			"[>                   ]   1%  100.0 MB / 10.0 GB  10.0 MB/s  ETA 16m30s"},
		{"nothing read yet: no ETA", 0, 2e9, 2 * time.Second,
			"[>                   ]   0%  0 B / 2.0 GB  0 B/s  ETA --"},
		{"all read", 2e9, 2e9, 20 * time.Second,
			"[====================] 100%  2.0 GB / 2.0 GB  100.0 MB/s  ETA 0s"},
		{"file grew while read", 2.5e9, 2e9, 25 * time.Second,
			"[====================] 100%  2.0 GB / 2.0 GB  100.0 MB/s  ETA 0s"},
		{"unknown total: bytes and rate", 900e6, 0, 9 * time.Second,
			"900.0 MB read  100.0 MB/s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeProgress{total: tc.total}
			b := newProgressBar(io.Discard, src, t0)
			src.set(tc.read)
			if got := b.line(t0.Add(tc.after)); got != tc.want {
				t.Errorf("line\n got  %q\n want %q", got, tc.want)
			}
			if n := len(tc.want); n >= 80 {
				t.Errorf("line is %d columns: it wraps on an 80-column terminal", n)
			}
		})
	}
}

// TestProgressBarRate: the rate, and so the ETA, follows the last
// progressWindow of reading rather than the average since the start.
func TestProgressBarRate(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	src := &fakeProgress{total: 10e9}
	b := newProgressBar(io.Discard, src, t0)
	// 100 MB/s for 10 s, then 10 MB/s, sampled four times a second.
	var read int64
	var line string
	for i := 1; i <= 4*20; i++ {
		if i <= 40 {
			read += 25e6
		} else {
			read += 2.5e6
		}
		src.set(read)
		line = b.line(t0.Add(time.Duration(i) * progressEvery))
		if i == 40 && !strings.Contains(line, " 100.0 MB/s ") {
			t.Errorf("after 10 s at 100 MB/s: %q", line)
		}
	}
	if !strings.Contains(line, " 10.0 MB/s ") {
		t.Errorf("10 s after slowing to 10 MB/s: %q", line)
	}
	if n := len(b.samples); n > int(progressWindow/progressEvery)+2 {
		t.Errorf("%d samples kept, want about %d", n, progressWindow/progressEvery)
	}
}

func TestProgressBarDrawAndClear(t *testing.T) {
	t0 := time.Now()
	var out bytes.Buffer
	src := &fakeProgress{}
	b := newProgressBar(&out, src, t0)
	src.set(5e6)
	b.clear()
	if out.Len() != 0 {
		t.Fatalf("clear before any draw wrote %q", out.String())
	}
	b.draw(t0.Add(time.Second))
	b.draw(t0.Add(2 * time.Second))
	b.clear()
	b.clear()
	want := "\r\x1b[K5.0 MB read  5.0 MB/s" + "\r\x1b[K5.0 MB read  2.5 MB/s" + "\r\x1b[K"
	if out.String() != want {
		t.Errorf("wrote\n %q\nwant\n %q", out.String(), want)
	}
}

// TestStartProgress: the bar appears only on a terminal, when not turned
// off, after progressAfter; stop erases it and nothing follows.
func TestStartProgress(t *testing.T) {
	fake := progressSourceFake{fakeProgress: &fakeProgress{read: 1e6, total: 4e6}}
	tests := []struct {
		name  string
		tty   bool
		off   bool
		term  string
		src   reassembly.Source
		after time.Duration
		shows bool
	}{
		{"terminal", true, false, "xterm", fake, 0, true},
		{"not a terminal", false, false, "xterm", fake, 0, false},
		{"--no-progress", true, true, "xterm", fake, 0, false},
		{"TERM=dumb", true, false, "dumb", fake, 0, false},
		{"source without progress", true, false, "xterm", struct{ reassembly.Source }{}, 0, false},
		{"quick run", true, false, "xterm", fake, time.Hour, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TERM", tc.term)
			setProgressAfter(t, tc.after)
			var errOut syncbuf.Buffer
			stop := startProgress(&IOStreams{ErrOut: &errOut, StderrTTY: tc.tty}, tc.src, tc.off)
			if tc.shows {
				for deadline := time.Now().Add(10 * time.Second); errOut.String() == ""; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("no bar drawn after 10 s")
					}
				}
			} else {
				time.Sleep(20 * time.Millisecond) // would be time enough to draw
			}
			stop()
			got := errOut.String()
			stop() // again: nothing more
			if errOut.String() != got {
				t.Errorf("a second stop wrote %q", strings.TrimPrefix(errOut.String(), got))
			}
			if !tc.shows {
				if got != "" {
					t.Errorf("wrote %q, want nothing", got)
				}
				return
			}
			if !strings.HasPrefix(got, "\r\x1b[K[=====>              ]  25%  1.0 MB / 4.0 MB") || !strings.HasSuffix(got, "\r\x1b[K") {
				t.Errorf("wrote %q, want the bar at 25%% then erased", got)
			}
		})
	}
}

// slowReader gives its bytes slowly, so that a run lasts long enough for
// the bar to be drawn.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	return s.r.Read(p[:min(len(p), 4096)])
}

// TestAnalyzeProgressLeavesOutputAlone: with the bar on a terminal, the
// report on standard output is byte for byte the one without it, and
// standard error is the same once the bar's frames, all erased before
// anything else is written, are taken out.
func TestAnalyzeProgressLeavesOutputAlone(t *testing.T) {
	t.Setenv("TERM", "xterm")
	setProgressAfter(t, 0)
	file := filepath.Join("..", "..", "testdata", "lab", "scenario3-balancer-round-robin-client.pcap")
	for _, workers := range []string{"1", "2"} {
		for _, input := range []string{"file", "stdin"} {
			t.Run(input+"/workers="+workers, func(t *testing.T) {
				run1 := func(tty bool, extra ...string) (stdout, stderr string) {
					ios, out, errOut := testIO()
					ios.StderrTTY = tty
					args := append([]string{"analyze", "--format", "json", "--workers", workers}, extra...)
					if input == "stdin" {
						data, err := os.ReadFile(file)
						if err != nil {
							t.Fatal(err)
						}
						ios.In = slowReader{bytes.NewReader(data)}
						args = append(args, "-")
					} else {
						args = append(args, file)
					}
					if code := run(args, ios); code != exitOK {
						t.Fatalf("exit %d: %s", code, errOut.String())
					}
					return out.String(), errOut.String()
				}
				plainOut, plainErr := run1(false)
				ttyOut, ttyErr := run1(true)
				offOut, offErr := run1(true, "--no-progress")
				if ttyOut != plainOut || offOut != plainOut {
					t.Errorf("standard output differs with the progress bar")
				}
				if offErr != plainErr {
					t.Errorf("--no-progress: stderr %q, want %q", offErr, plainErr)
				}
				frames, rest := "", ttyErr
				if i := strings.LastIndex(ttyErr, "\r\x1b[K"); i >= 0 {
					frames, rest = ttyErr[:i], ttyErr[i+len("\r\x1b[K"):]
				}
				if rest != plainErr || strings.Contains(frames, "\n") {
					t.Errorf("stderr on a terminal %q, want the bar's frames, erased, then %q", ttyErr, plainErr)
				}
				if input == "stdin" && !strings.Contains(frames, " read  ") {
					t.Errorf("a slow run drew no bar: stderr %q", ttyErr)
				}
			})
		}
	}
}

// TestShowPhase: after a long run's bar, a line says what happens until the
// report is written, erased afterwards; nothing after a short run, and
// nothing when the report goes to the terminal.
func TestShowPhase(t *testing.T) {
	for _, tc := range []struct {
		name            string
		shown, stdoutTT bool
		want            string
	}{
		{"after the bar", true, false, "\r\x1b[Kdiagnosing\r\x1b[K"},
		{"short run", false, false, ""},
		{"report on the terminal", true, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			clear := showPhase(&IOStreams{ErrOut: &errOut, StderrTTY: true}, tc.shown, tc.stdoutTT, "diagnosing")
			clear()
			if got := errOut.String(); got != tc.want {
				t.Errorf("stderr %q, want %q", got, tc.want)
			}
		})
	}
}
