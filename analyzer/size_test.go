package analyzer

import (
	"testing"
	"unsafe"
)

// TestRetainedSizes guards what the analyzer keeps per connection,
// handshake, exchange and request of a closed connection (issue 8: memory
// per connection kept small; see connState, handshake, exchRec, reqRec).
// Raise a limit only with a reason: it multiplies by every connection of a
// multi-gigabyte capture.
func TestRetainedSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		size, max uintptr
	}{
		{"connState", unsafe.Sizeof(connState{}), 288},
		{"handshake", unsafe.Sizeof(handshake{}), 480},
		{"exchRec", unsafe.Sizeof(exchRec{}), 80},
		{"reqRec", unsafe.Sizeof(reqRec{}), 24},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes, more than %d", c.name, c.size, c.max)
		}
	}
}
