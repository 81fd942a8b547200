package synth_test

import (
	"io"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/synth"
)

// BenchmarkGenerate measures generation speed (MB/s) on 20 MB.
func BenchmarkGenerate(b *testing.B) {
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Size = 1, 20_000_000
	b.SetBytes(cfg.Size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := synth.Generate(io.Discard, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
