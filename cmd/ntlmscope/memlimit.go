package main

import (
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the soft limit given to the Go runtime unless
// GOMEMLIMIT says otherwise. ntlmscope's live memory is bounded by the
// connections open at once plus a compact record per connection of the
// capture (about 100 MB for a 2 GB capture of 170,000 connections), but the
// garbage collector's default pacing lets the heap grow to twice the live
// size, so a large capture would peak at over 400 MB. Below the limit
// nothing changes; near it the collector runs more often (it costs CPU, at
// most half of it by the runtime's own cap, and never fails a run).
//
// Only analyze sets it: a live capture may run for days and accumulate
// more than this, and a collector working near its limit would make it
// drop packets.
const defaultMemoryLimit = 224 << 20

// setDefaultMemoryLimit applies defaultMemoryLimit when the environment
// does not set GOMEMLIMIT.
func setDefaultMemoryLimit() {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}
