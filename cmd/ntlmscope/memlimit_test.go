package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestMemoryLimitUnlessGOMEMLIMIT checks that analyze's limit applies
// unless the environment names one, and that stopping puts back the one
// from before.
func TestMemoryLimitUnlessGOMEMLIMIT(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // restored after the test
	os.Unsetenv("GOMEMLIMIT")
	before := debug.SetMemoryLimit(-1)
	stop := startMemoryLimit()
	if l := debug.SetMemoryLimit(-1); l < analyzeMemory.Floor {
		t.Errorf("limit %d while analyzing, want at least %d", l, analyzeMemory.Floor)
	}
	stop()
	if l := debug.SetMemoryLimit(-1); l != before {
		t.Errorf("limit %d after stopping, want %d", l, before)
	}

	t.Setenv("GOMEMLIMIT", "1GiB")
	stop = startMemoryLimit()
	if l := debug.SetMemoryLimit(-1); l != before {
		t.Errorf("with GOMEMLIMIT set, the limit became %d (was %d)", l, before)
	}
	stop()
}
