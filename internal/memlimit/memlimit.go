// Package memlimit keeps the Go runtime's soft memory limit a fixed margin
// above the live heap, and never below a floor.
//
// A fixed soft limit (debug.SetMemoryLimit) keeps the peak of a run near its
// live heap instead of twice it, as long as the live heap stays below the
// limit. Once the live heap reaches the limit, the collector runs back to
// back, up to half the CPU by the runtime's own cap. With a fixed 224 MiB
// limit, `ntlmscope analyze` took 28–29 s and 106–108 collections on a
// 5 GB capture whose live heap reached 316 MB: twice as long per byte as
// on 2 GB, which takes 9 collections. With a Tuner, the 5 GB capture takes
// 12.7–13.6 s and 15 collections. The
// runtime has no setting for "this margin above the live heap, but no
// lower than that floor" (GOGC is a margin without a floor, GOMEMLIMIT a
// ceiling without a margin), so a Tuner reads the live heap after each
// collection from runtime/metrics and moves the limit.
package memlimit

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Options say how a Tuner sets the limit.
type Options struct {
	// Floor is the least limit, in bytes (more than zero): below it the
	// limit does not follow the live heap.
	Floor int64
	// Margin is the share of the live heap the limit stays above it:
	// 0.5 sets it to 1.5 times the live heap.
	Margin float64
	// Interval is how often the Tuner looks for a finished collection
	// (default 20 ms).
	Interval time.Duration
}

// LimitFor returns the limit for a live heap of live bytes: live plus its
// margin, and at least the floor.
func (o Options) LimitFor(live uint64) int64 {
	want := float64(live) * (1 + o.Margin)
	if want >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(o.Floor, int64(want))
}

// Tuner moves the runtime's soft memory limit with the live heap (see the
// package doc). Start one with Start; Stop it to put back the limit that
// was in force before. The limit is the process's: run one Tuner at a
// time.
type Tuner struct {
	opts     Options
	previous int64
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

// Start sets the limit to o.Floor and starts a Tuner that keeps it at
// o.LimitFor(the live heap) after every collection.
func Start(o Options) *Tuner {
	if o.Interval <= 0 {
		o.Interval = 20 * time.Millisecond
	}
	t := &Tuner{opts: o, stop: make(chan struct{}), done: make(chan struct{})}
	t.previous = debug.SetMemoryLimit(o.Floor)
	go t.run()
	return t
}

// liveHeap and gcCycles are the runtime/metrics names the Tuner reads.
const (
	liveHeap = "/gc/heap/live:bytes"
	gcCycles = "/gc/cycles/total:gc-cycles"
)

func (t *Tuner) run() {
	defer close(t.done)
	samples := []metrics.Sample{{Name: liveHeap}, {Name: gcCycles}}
	tick := time.NewTicker(t.opts.Interval)
	defer tick.Stop()
	var seen uint64 // the collections already acted on
	limit := t.opts.Floor
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		metrics.Read(samples)
		if samples[0].Value.Kind() != metrics.KindUint64 || samples[1].Value.Kind() != metrics.KindUint64 {
			return // a runtime without these metrics: the floor stays
		}
		cycles := samples[1].Value.Uint64()
		if cycles == seen {
			continue
		}
		seen = cycles
		if l := t.opts.LimitFor(samples[0].Value.Uint64()); l != limit {
			limit = l
			debug.SetMemoryLimit(l)
		}
	}
}

// Stop stops the Tuner and puts back the limit that was in force when it
// started. It may be called more than once.
func (t *Tuner) Stop() {
	t.once.Do(func() {
		close(t.stop)
		<-t.done
		debug.SetMemoryLimit(t.previous)
	})
}
