package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// robustInputs are the project's own lab captures: small, with NTLM
// handshakes on both legs of a balancer.
func robustInputs(t testing.TB) [][]byte {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "lab", "scenario[347]-*.pcap"))
	if len(paths) == 0 {
		t.Fatal("no lab captures under testdata/lab")
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// analyzeBytes runs the whole command on a capture held in memory (as
// standard input) in every output format; it fails the test on a panic.
func analyzeBytes(t testing.TB, data []byte, format string) exitCode {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: bytes.NewReader(data), Out: &out, ErrOut: &errOut}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic on a %d-byte input (%s): %v", len(data), format, r)
		}
	}()
	return run([]string{"analyze", "--format", format, "-"}, ios)
}

// TestTruncatedAnywhere cuts captures at every byte offset (every offset in
// the first 512 bytes, then every 7th) and analyses what is left: a clear
// error or a report, never a panic.
func TestTruncatedAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of runs")
	}
	for _, data := range robustInputs(t) {
		for n := 0; n < len(data); n++ {
			if n > 512 && n%7 != 0 {
				continue
			}
			if code := analyzeBytes(t, data[:n], "json"); code != exitOK && code != exitError {
				t.Fatalf("cut at %d: exit %d", n, code)
			}
		}
	}
}

// TestRandomDamage flips random bytes in the captures and renders every
// format: never a panic.
func TestRandomDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	formats := []string{"json", "table"}
	for i, data := range robustInputs(t) {
		for round := 0; round < 150; round++ {
			d := bytes.Clone(data)
			for k := 0; k < 1+rng.IntN(20); k++ {
				d[rng.IntN(len(d))] = byte(rng.Uint32())
			}
			analyzeBytes(t, d, formats[(i+round)%len(formats)])
		}
	}
}

// TestRegressionInputs analyses the damaged captures that once broke the
// tool (kept under testdata/regression): each must finish promptly.
//
//   - restart-cycle.pcap: damaged timestamps made two handshakes each
//     other's restart, and the analyzer looped forever following them.
func TestRegressionInputs(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "regression", "*.pcap"))
	if len(paths) == 0 {
		t.Fatal("no regression inputs")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); analyzeBytes(t, data, "json") }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("analysis did not finish in 20 s")
			}
		})
	}
}

// FuzzAnalyze runs the whole command on arbitrary capture bytes. The seed
// corpus is the lab's captures, cut and whole.
func FuzzAnalyze(f *testing.F) {
	for _, data := range robustInputs(f) {
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		analyzeBytes(t, data, "json")
	})
}
