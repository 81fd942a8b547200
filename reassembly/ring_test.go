package reassembly

import "testing"

// TestRing: the queue is FIFO across growth and wrap-around.
func TestRing(t *testing.T) {
	var q ring[int]
	next, want := 0, 0
	for round := 0; round < 200; round++ {
		for i := 0; i < round%37; i++ {
			q.push(next)
			next++
		}
		for i := 0; i < round%23 && q.len() > 0; i++ {
			if got := q.front(); got != want {
				t.Fatalf("front %d, want %d", got, want)
			}
			q.pop()
			want++
		}
	}
	if q.len() != next-want {
		t.Fatalf("len %d, want %d", q.len(), next-want)
	}
}
