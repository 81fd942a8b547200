package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// TestConcurrentWrites: writes from many goroutines all arrive, whole,
// while readers read (run with -race).
func TestConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("ab\n"))
				b.WriteString("cd\n")
				_ = b.String()
			}
		})
	}
	wg.Wait()
	s := b.String()
	if got := strings.Count(s, "ab\n") + strings.Count(s, "cd\n"); got != 1600 {
		t.Fatalf("%d whole lines, want 1600", got)
	}
	if string(b.Bytes()) != s {
		t.Fatal("Bytes and String disagree")
	}
	c := b.Bytes()
	c[0] = 'x'
	if b.String() != s {
		t.Fatal("Bytes returned the buffer itself, not a copy")
	}
}
