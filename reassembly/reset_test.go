package reassembly

import (
	"strings"
	"testing"
	"time"
)

// TestReassemblerSuspectRST checks which RST ends a connection
// (reset.go): one where its sender's bytes end ends it at once; any other
// waits for resetGrace, and more bytes from its sender undo it.
func TestReassemblerSuspectRST(t *testing.T) {
	const (
		rstExact   = iota // at the server's next sequence number
		rstAhead          // 100 past it (in the window, not exact)
		rstFar            // far outside any window
		rstUnknown        // from a side that never sent anything
	)
	for _, c := range []struct {
		name string
		rst  int
		// serverGoesOn: the server answers a second request after the
		// RST; newSYN: a new connection reuses the 4-tuple instead.
		serverGoesOn, newSYN bool
		tick                 time.Duration // Tick this long after the RST, before the rest
		wantOpenAtTick       bool
		wantEvents           []string
		wantEnd              EndReason
		wantRSTFrame         int64 // of the server's direction, in the first connection
		wantRefuted          int64
	}{
		{name: "exact RST ends at once", rst: rstExact, serverGoesOn: true,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "close 0 rst"},
			wantEnd:    EndRST, wantRSTFrame: 6},
		{name: "inexact RST refuted by the server's next bytes", rst: rstAhead, serverGoesOn: true,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "req 0 GET /b", "resp 0 200 for=/b", "close 0 fin"},
			wantEnd:    EndFIN, wantRefuted: 1},
		{name: "RST outside the window refuted", rst: rstFar, serverGoesOn: true,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "req 0 GET /b", "resp 0 200 for=/b", "close 0 fin"},
			wantEnd:    EndFIN, wantRefuted: 1},
		{name: "inexact RST nothing refutes ends after the grace", rst: rstAhead,
			tick: 2 * time.Second, wantOpenAtTick: true,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "req 0 GET /b", "close 0 rst"},
			wantEnd:    EndRST, wantRSTFrame: 6},
		{name: "inexact RST, grace over before the client's request", rst: rstAhead,
			tick:       resetGrace + time.Second,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "close 0 rst"},
			wantEnd:    EndRST, wantRSTFrame: 6},
		{name: "inexact RST, then the 4-tuple reused", rst: rstAhead, newSYN: true,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "close 0 rst", "req 1 GET /b", "resp 1 200 for=/b", "close 1 fin"},
			wantEnd:    EndRST, wantRSTFrame: 6},
		{name: "RST from a side never seen", rst: rstUnknown,
			wantEvents: []string{"close 0 rst"},
			wantEnd:    EndRST},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newScript()
			cv := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
			if c.rst == rstUnknown {
				// Mid-stream: the client's request is cut by a RST of a
				// server never seen (no request line either, so nothing
				// parses).
				s.add(cv.server, cv.client, 77, 0, "R", "")
			} else {
				cv.handshake()
				cv.send(true, getReq, 1460)
				cv.send(false, okResp, 1460)
				seq := cv.sseq
				switch c.rst {
				case rstAhead:
					seq += 100
				case rstFar:
					seq += 1 << 31
				}
				s.add(cv.server, cv.client, seq, 0, "R", "")
			}
			rec := &recorder{}
			r := NewReassembler(rec, Options{IdleTimeout: time.Minute})
			feed := func(pkts []Packet) {
				for i := range pkts {
					p := pkts[i]
					r.Packet(&p)
				}
			}
			feed(s.pkts)
			rstAt := s.pkts[len(s.pkts)-1].Time
			rest := len(s.pkts)
			if c.tick > 0 {
				r.Tick(rstAt.Add(c.tick))
				if open := len(rec.closed) == 0; open != c.wantOpenAtTick {
					t.Fatalf("open %v after %v, want %v: %v", open, c.tick, c.wantOpenAtTick, rec.events)
				}
				s.t0 = s.t0.Add(c.tick) // the rest comes after the tick
			}
			if c.rst != rstUnknown {
				if c.newSYN {
					cv.cseq += 5000
					cv.sseq += 5000
					cv.handshake()
				}
				cv.send(true, getReqB, 1460)
				if c.serverGoesOn || c.newSYN {
					cv.send(false, okResp, 1460)
					cv.close()
				}
			}
			feed(s.pkts[rest:])
			r.Finish()
			var got []string
			for _, e := range rec.events {
				if !strings.HasPrefix(e, "open ") {
					got = append(got, shortEvent(e))
				}
			}
			assertEvents(t, &recorder{events: got}, c.wantEvents)
			if len(rec.closed) == 0 {
				t.Fatal("no connection closed")
			}
			first := rec.closed[0]
			if first.Ended != c.wantEnd || first.RSTFrame[ServerToClient] != c.wantRSTFrame {
				t.Errorf("ended %s, server RST frame %d; want %s, %d", first.Ended, first.RSTFrame[ServerToClient], c.wantEnd, c.wantRSTFrame)
			}
			if c.wantRSTFrame != 0 && !first.CloseTime[ServerToClient].Equal(rstAt) {
				t.Errorf("server close time %v, want the RST's %v", first.CloseTime[ServerToClient], rstAt)
			}
			if c.wantRefuted > 0 && !first.CloseTime[ServerToClient].Before(rstAt.Add(time.Hour)) {
				t.Errorf("server close time %v after a refuted RST", first.CloseTime[ServerToClient])
			}
			if got := r.Stats().RefutedResets; got != c.wantRefuted {
				t.Errorf("%d refuted RSTs, want %d", got, c.wantRefuted)
			}
		})
	}
}

// shortEvent drops the frames and gaps of a recorder event, and the
// protocol of a close: what TestReassemblerSuspectRST compares.
func shortEvent(e string) string {
	if strings.HasPrefix(e, "close ") {
		return strings.Join(strings.Fields(e)[:3], " ")
	}
	e, _, _ = strings.Cut(e, " frames=")
	return e
}
