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
	events, stats := syntheticEvents(t, 3_000_000)
	a := New(Options{HashKey: testKey})
	replay(a, events)
	r := a.FinishStreaming(stats)
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
