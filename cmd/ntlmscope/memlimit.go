package main

import (
	"os"

	"github.com/ntlmscope/ntlmscope/internal/memlimit"
)

// analyzeMemory is how analyze bounds its memory unless GOMEMLIMIT says
// otherwise. ntlmscope's live memory is bounded by the connections open at
// once plus a compact record per connection of the capture (about 130 MB
// live at the end of a 2 GB capture of 170,000 connections, its peak), but
// the garbage collector's default pacing lets the heap grow to twice the
// live size, so a large capture would peak at over 400 MB. The soft limit
// is 224 MiB, or one and a half times the live heap once that is more
// (memlimit.Tuner): a fixed limit below the live heap would make the
// collector run back to back (a 5 GB capture took twice as long per byte
// as a 2 GB one).
//
// Only analyze sets it: a live capture may run for days and accumulate
// more, and a collector working near its limit would make it drop packets.
var analyzeMemory = memlimit.Options{Floor: 224 << 20, Margin: 0.5}

// startMemoryLimit starts the tuner of analyzeMemory when the environment
// does not set GOMEMLIMIT; the returned function stops it.
func startMemoryLimit() (stop func()) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return func() {}
	}
	return memlimit.Start(analyzeMemory).Stop
}
