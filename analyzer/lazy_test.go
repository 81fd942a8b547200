package analyzer

import (
	"reflect"
	"sync"
	"testing"
)

// TestConnectionsIn: runs of connections built with reused lists, on
// several goroutines at once, are the connections EachConnection builds
// afresh.
func TestConnectionsIn(t *testing.T) {
	r := syntheticStreamingReport(t)
	var want []Connection
	for c := range r.EachConnection() {
		want = append(want, *c)
	}
	n := r.ConnectionCount()
	if len(want) != n || n < 50 {
		t.Fatalf("EachConnection yielded %d connections of %d", len(want), n)
	}
	withHandshakes := 0
	for _, c := range want {
		if len(c.Handshakes) > 0 && len(c.Exchanges) > 0 {
			withHandshakes++
		}
	}
	if withHandshakes < 10 {
		t.Fatalf("only %d connections have handshakes and exchanges", withHandshakes)
	}
	for _, run := range []int{1, 7, n} {
		var wg sync.WaitGroup
		for lo := 0; lo < n; lo += run {
			hi := min(lo+run, n)
			wg.Go(func() {
				i := lo
				for c := range r.ConnectionsIn(lo, hi) {
					if !reflect.DeepEqual(*c, want[i]) {
						t.Errorf("runs of %d: connection %d differs from EachConnection's:\n got %+v\nwant %+v", run, i, *c, want[i])
					}
					i++
				}
				if i != hi {
					t.Errorf("runs of %d: ConnectionsIn(%d, %d) yielded %d connections", run, lo, hi, i-lo)
				}
			})
		}
		wg.Wait()
	}
}

// TestEachConnectionBrief: the brief connections are EachConnection's
// with Exchanges nil (ExchangesOmitted kept), in a streaming report and in
// a materialized one, whose own connections keep their exchanges.
func TestEachConnectionBrief(t *testing.T) {
	r := syntheticStreamingReport(t)
	var want []Connection
	exchanges := 0
	for c := range r.EachConnection() {
		cc := *c
		exchanges += len(cc.Exchanges)
		cc.Exchanges = nil
		want = append(want, cc)
	}
	if exchanges == 0 {
		t.Fatal("no connection has exchanges: the test proves nothing")
	}
	check := func(name string, r *Report) {
		t.Helper()
		i := 0
		for c := range r.EachConnectionBrief() {
			if i >= len(want) || !reflect.DeepEqual(*c, want[i]) {
				t.Fatalf("%s: brief connection %d differs from EachConnection's without exchanges:\n got %+v", name, i, *c)
			}
			i++
		}
		if i != len(want) {
			t.Errorf("%s: EachConnectionBrief yielded %d connections, want %d", name, i, len(want))
		}
	}
	check("streaming", r)
	r.Materialize()
	check("materialized", r)
	kept := 0
	for _, c := range r.Connections {
		kept += len(c.Exchanges)
	}
	if kept != exchanges {
		t.Errorf("the materialized report's connections hold %d exchanges after EachConnectionBrief, want %d", kept, exchanges)
	}
}

// syntheticStreamingReport is the streaming report of a 3 MB synthetic
// capture's events.
func syntheticStreamingReport(t *testing.T) *Report {
	t.Helper()
	events, stats := syntheticEvents(t, 3_000_000)
	a := New(Options{HashKey: testKey})
	replay(a, events)
	return a.FinishStreaming(stats)
}
