package lab

import (
	"slices"
	"sync"
	"testing"
)

func TestTurnstileInterleavesInOrder(t *testing.T) {
	ts := NewTurnstile("a", "b", "c")
	var mu sync.Mutex
	var got []string
	run := func(name string, legs int) {
		defer ts.Leave(name)
		for range legs {
			ts.Enter(name)
			mu.Lock()
			got = append(got, name)
			mu.Unlock()
			ts.Pass(name)
		}
	}
	var wg sync.WaitGroup
	// Started in reverse: the order comes from the turnstile, not from
	// the scheduler. b leaves early; the others go on without it.
	wg.Go(func() { run("c", 3) })
	wg.Go(func() { run("b", 1) })
	wg.Go(func() { run("a", 3) })
	wg.Wait()
	want := []string{"a", "b", "c", "a", "c", "a", "c"}
	if !slices.Equal(got, want) {
		t.Fatalf("turns %v, want %v", got, want)
	}
}

func TestNilTurnstileLetsEveryoneThrough(t *testing.T) {
	var ts *Turnstile
	ts.Enter("x")
	ts.Pass("x")
	ts.Leave("x")
}
