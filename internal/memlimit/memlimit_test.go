package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimitFor(t *testing.T) {
	o := Options{Floor: 224 << 20, Margin: 0.5}
	for _, tc := range []struct {
		name string
		live uint64
		want int64
	}{
		{"empty heap", 0, 224 << 20},
		{"below the floor with its margin", 100 << 20, 224 << 20},
		{"at the floor with its margin", 224 << 20 * 2 / 3, 224 << 20},
		{"above", 300 << 20, 450 << 20},
		{"huge", math.MaxUint64, math.MaxInt64},
	} {
		if got := o.LimitFor(tc.live); got != tc.want {
			t.Errorf("%s: LimitFor(%d) = %d, want %d", tc.name, tc.live, got, tc.want)
		}
	}
}

// waitLimit polls the runtime's limit until ok accepts it, collecting
// garbage each time so that the Tuner sees a fresh live heap.
func waitLimit(t *testing.T, what string, ok func(int64) bool) int64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		l := debug.SetMemoryLimit(-1)
		if ok(l) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the limit stayed at %d", what, l)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTunerFollowsTheLiveHeap grows the live heap past a small floor and
// checks that the limit rises above it by the margin, falls back to the
// floor when the heap is freed, and that Stop puts back the limit from
// before.
func TestTunerFollowsTheLiveHeap(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	const floor = 8 << 20
	tu := Start(Options{Floor: floor, Margin: 0.5, Interval: time.Millisecond})
	defer tu.Stop()
	if l := debug.SetMemoryLimit(-1); l != floor {
		t.Fatalf("after Start the limit is %d, want the floor %d", l, floor)
	}

	const held = 64 << 20
	keep := make([][]byte, 64)
	for i := range keep {
		keep[i] = make([]byte, held/len(keep))
	}
	waitLimit(t, "64 MiB live", func(l int64) bool { return l >= held*3/2 })

	runtime.KeepAlive(keep)
	keep = nil
	waitLimit(t, "heap freed", func(l int64) bool { return l == floor })

	tu.Stop()
	tu.Stop() // twice is fine
	if l := debug.SetMemoryLimit(-1); l != before {
		t.Errorf("after Stop the limit is %d, want %d as before Start", l, before)
	}
}
