package analyzer

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// TestRestartMessage: the message written without fmt is the one the
// format gives, for gaps of any size and sign, on one connection or two,
// with and without cause and evidence.
func TestRestartMessage(t *testing.T) {
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	c1 := &connState{id: 7}
	c2 := &connState{id: math.MaxInt32}
	gaps := []time.Duration{0, 1, 499_999, 500_000, 1_500_000, 2_500_000, time.Second, -3 * time.Millisecond,
		-400_000, 90 * time.Hour, math.MaxInt64 / 2}
	labels := [][2]string{{"", ""}, {CauseBalancer, ""}, {CauseClient, EvidenceChallengeNotCaptured},
		{CauseUnknown, CodeConnectionClosedMidHS}}
	n := 0
	for _, gap := range gaps {
		for _, l := range labels {
			for _, to := range []*connState{c1, c2} {
				from := &handshake{client: "10.0.0.1", conn: c1, t3conn: c1, outcomeL: labelFailed,
					t1: step{f: 1, at: nanoOf(base)}, t3: step{f: 3, at: nanoOf(base.Add(time.Millisecond))}}
				if l[0] != "" {
					from.causeL = labelOf(l[0])
				}
				if l[1] != "" {
					from.evidL = labelOf(l[1])
				}
				next := &handshake{client: "10.0.0.1", conn: to, t3conn: to,
					t1: step{f: 9, at: nanoOf(from.end().Add(gap))}}
				r := restart{from, next}
				where := "on the same connection"
				if r.to.conn != r.from.t3conn {
					where = fmt.Sprintf("on connection %d", r.to.conn.id)
				}
				ms := float64(r.to.start().Sub(r.from.end())) / float64(time.Millisecond)
				decimals := 0
				if ms < 10 {
					decimals = 1
				}
				want := fmt.Sprintf("%s's handshake on connection %d %s (%s); the client started a new one %s %.*f ms later",
					r.from.client, r.from.t3conn.id, r.from.outcome(), causeText(r.from), where, decimals, ms)
				if got := restartMessage(r, nil); got != want {
					t.Errorf("gap %v, labels %q:\n got %q\nwant %q", gap, l, got, want)
				}
				n++
			}
		}
	}
	for _, h := range []*handshake{
		{causeL: labelOf(CauseClient), evidL: labelOf(EvidenceChallengeNotCaptured)},
		{causeL: labelOf(CauseBalancer)},
		{},
	} {
		want := "no cause"
		if h.cause() != "" {
			want = h.cause()
			if h.evid() != "" {
				want += ": " + "challenge not captured"
			}
		}
		if got := causeText(h); got != want {
			t.Errorf("causeText = %q, want %q", got, want)
		}
	}
}
