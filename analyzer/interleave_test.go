package analyzer

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// TestInterleavingIndependent feeds the same per-connection event streams
// in several interleavings (each connection's own order kept, as workers
// that shard connections would deliver them) and requires byte-identical
// JSON: the report must not depend on how connections' events interleave.
func TestInterleavingIndependent(t *testing.T) {
	type capture struct {
		name   string
		events func(t *testing.T) ([]event, reassembly.SourceStats)
	}
	scripted := func(play func(s *script)) func(t *testing.T) ([]event, reassembly.SourceStats) {
		return func(t *testing.T) ([]event, reassembly.SourceStats) { return recordScript(t, play) }
	}
	captures := []capture{
		{"rich", scripted(richCapture)},
		{"pooled upstream (lab scenario 4)", scripted(func(s *script) { playPooledUpstream(s, map[int64]int64{}) })},
		{"new connection per leg, both legs (lab scenario 7)", scripted(func(s *script) { playNewConnPerLeg(s, "both") })},
		{"busy backend side", scripted(func(s *script) { playBusy(s, 200, true) })},
		{"synthetic 3 MB", func(t *testing.T) ([]event, reassembly.SourceStats) {
			if testing.Short() {
				t.Skip("-short")
			}
			return syntheticEvents(t, 3_000_000)
		}},
	}
	for _, c := range captures {
		t.Run(c.name, func(t *testing.T) {
			events, stats := c.events(t)
			report := func(evs []event) []byte {
				a := New(testOptions())
				replay(a, evs)
				b, err := json.Marshal(a.Finish(stats))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			want := report(events)
			for seed := uint64(1); seed <= 3; seed++ {
				if got := report(interleave(events, seed)); !bytes.Equal(got, want) {
					t.Errorf("interleaving %d: report differs (%d vs %d bytes) at byte %d", seed, len(got), len(want),
						firstDiff(got, want))
				}
			}
		})
	}
}

// firstDiff returns the offset of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
