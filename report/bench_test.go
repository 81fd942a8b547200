package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
	"github.com/ntlmscope/ntlmscope/internal/synth"
)

// benchReport analyzes a synthetic capture of the given size (internal/synth's
// default mix, seed 1) and returns the streaming report.
func benchReport(b *testing.B, size int64) *analyzer.Report {
	b.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Size = 1, size
	var buf bytes.Buffer
	if _, err := synth.Generate(&buf, cfg); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "synth.pcapng")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return analyzeStreaming(b, path)
}

// BenchmarkJSON renders the streaming report of a 50 MB synthetic capture
// (some 4,000 connections) as JSON: connections built and encoded on the
// caller's goroutine, then on two.
func BenchmarkJSON(b *testing.B) {
	r := benchReport(b, 50_000_000)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := newModel(r, newScrubber(Options{}))
				if err := (jsonRenderer{workers: workers, chunk: connChunk}).render(io.Discard, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFormats renders the streaming report of a 50 MB synthetic
// capture in each format but JSON (BenchmarkJSON has that one): what a
// report costs beside the analysis.
func BenchmarkFormats(b *testing.B) {
	r := benchReport(b, 50_000_000)
	for _, format := range []string{"table", "markdown", "html", "ndjson", "csv"} {
		b.Run(format, func(b *testing.B) {
			rd, err := New(format, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := rd.Render(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
