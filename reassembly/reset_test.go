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
			assertShortEvents(t, rec, c.wantEvents)
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
			if c.wantRefuted > 0 && !first.CloseTime[ServerToClient].After(rstAt) {
				t.Errorf("server close time %v after a refuted RST at %v: want its FIN's", first.CloseTime[ServerToClient], rstAt)
			}
			if got := r.Stats().RefutedResets; got != c.wantRefuted {
				t.Errorf("%d refuted RSTs, want %d", got, c.wantRefuted)
			}
		})
	}
}

// assertShortEvents compares rec's events but the opens, as shortEvent
// writes them, with want.
func assertShortEvents(t *testing.T, rec *recorder, want []string) {
	t.Helper()
	var got []string
	for _, e := range rec.events {
		if !strings.HasPrefix(e, "open ") {
			got = append(got, shortEvent(e))
		}
	}
	assertEvents(t, &recorder{events: got}, want)
}

// TestResetWarnings: refuted RSTs are reported, and nothing else is.
func TestResetWarnings(t *testing.T) {
	if w := ResetWarnings(StreamStats{}); len(w) != 0 {
		t.Errorf("no refuted RST: %q", w)
	}
	if w := ResetWarnings(StreamStats{RefutedResets: 3}); len(w) != 1 || !strings.HasPrefix(w[0], "3 RST(s) did not end their connection") {
		t.Errorf("3 refuted RSTs: %q", w)
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

// TestReassemblerSuspectRSTEdges covers what a review of reset.go found:
// a RST captured before its sender's last segment, a second suspect RST
// after a refuted one, a RST after two SYN-ACKs of different ISNs, a
// suspect RST's payload, eviction, and a RST at its sender's FIN.
func TestReassemblerSuspectRSTEdges(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
		// play writes the packets; before tick (zero: no tick) feeds
		// the first n packets, ticks, then feeds the rest.
		play         func(s *script, cv *tcpConv) (n int, tick time.Duration)
		wantEnd      EndReason
		wantRSTFrame bool // the server's RST frame kept
		wantClosed   int  // connections closed at the tick (-1: no tick)
		wantEvents   []string
		wantEvicted  int64
	}{
		{
			name: "RST captured before its sender's last segment",
			play: func(s *script, cv *tcpConv) (int, time.Duration) {
				cv.handshake()
				cv.send(true, getReq, 1460)
				cv.send(false, okResp, 20)
				last := s.pkts[len(s.pkts)-1]
				s.pkts = s.pkts[:len(s.pkts)-1]
				s.add(cv.server, cv.client, cv.sseq, cv.cseq, "RA", "")
				s.pkts = append(s.pkts, last)
				return len(s.pkts), time.Second
			},
			wantEnd: EndRST, wantRSTFrame: true, wantClosed: 1,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "close 0 rst"},
		},
		{
			name: "a suspect RST before the server's first byte",
			play: func(s *script, cv *tcpConv) (int, time.Duration) {
				cv.handshake()
				cv.send(true, getReq, 1460)
				s.add(cv.server, cv.client, cv.sseq+100, 0, "R", "")
				cv.send(false, okResp, 1460) // the server's first segment refutes it
				s.t0 = s.t0.Add(10 * time.Second)
				cv.send(true, getReqB, 1460)
				cv.send(false, okResp, 1460)
				cv.close()
				return len(s.pkts), 0
			},
			wantEnd: EndFIN, wantClosed: -1,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "req 0 GET /b", "resp 0 200 for=/b", "close 0 fin"},
		},
		{
			name: "a second suspect RST after a refuted one",
			play: func(s *script, cv *tcpConv) (int, time.Duration) {
				cv.handshake()
				cv.send(true, getReq, 1460)
				s.add(cv.server, cv.client, cv.sseq+100, 0, "R", "")
				cv.send(false, okResp, 1460) // refutes it
				s.t0 = s.t0.Add(3 * time.Second)
				cv.send(true, getReqB, 1460)
				s.add(cv.server, cv.client, cv.sseq+100, 0, "R", "")
				return len(s.pkts), 30 * time.Second
			},
			wantEnd: EndRST, wantRSTFrame: true, wantClosed: 1,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "req 0 GET /b", "close 0 rst"},
		},
		{
			name: "an exact RST after two SYN-ACKs of different ISNs",
			play: func(s *script, cv *tcpConv) (int, time.Duration) {
				s.add(cv.client, cv.server, cv.cseq, 0, "S", "")
				s.add(cv.server, cv.client, 900000, cv.cseq+1, "SA", "")
				s.add(cv.client, cv.server, cv.cseq, 0, "S", "")
				cv.sseq = 500000
				s.add(cv.server, cv.client, cv.sseq, cv.cseq+1, "SA", "")
				cv.cseq++
				cv.sseq++
				s.add(cv.client, cv.server, cv.cseq, cv.sseq, "A", "")
				cv.send(true, getReq, 1460)
				cv.send(false, okResp, 1460)
				s.add(cv.server, cv.client, cv.sseq, cv.cseq, "RA", "")
				return len(s.pkts), time.Millisecond
			},
			wantEnd: EndRST, wantRSTFrame: true, wantClosed: 1,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "close 0 rst"},
		},
		{
			name: "a suspect RST's payload is not delivered",
			play: func(s *script, cv *tcpConv) (int, time.Duration) {
				cv.handshake()
				cv.send(true, getReq, 1460)
				cv.send(false, okResp, 1460)
				s.add(cv.server, cv.client, cv.sseq-5, 0, "R", "hello<html>blocked</html>")
				cv.send(true, getReqB, 1460)
				cv.send(false, okResp, 1460)
				cv.close()
				return len(s.pkts), 0
			},
			wantEnd: EndFIN, wantClosed: -1,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "req 0 GET /b", "resp 0 200 for=/b", "close 0 fin"},
		},
		{
			name: "evicted while a suspect RST waits",
			opts: Options{MaxConnections: 1},
			play: func(s *script, cv *tcpConv) (int, time.Duration) {
				cv.handshake()
				cv.send(true, getReq, 1460)
				s.add(cv.server, cv.client, cv.sseq+100, 0, "R", "")
				s.conv("10.0.0.1:50001", "10.0.0.2:80", 7000).handshake()
				return len(s.pkts), 0
			},
			wantEnd: EndEvicted, wantRSTFrame: true, wantClosed: -1, wantEvicted: 1,
			wantEvents: []string{"req 0 GET /a", "close 0 evicted", "close 1 capture_end"},
		},
		{
			name: "a RST at its sender's FIN",
			play: func(s *script, cv *tcpConv) (int, time.Duration) {
				cv.handshake()
				cv.send(true, getReq, 1460)
				cv.send(false, okResp, 1460)
				s.add(cv.server, cv.client, cv.sseq, cv.cseq, "FA", "")
				cv.send(true, getReqB, 1460)
				s.add(cv.server, cv.client, cv.sseq, 0, "R", "")
				return len(s.pkts), time.Millisecond
			},
			wantEnd: EndRST, wantRSTFrame: true, wantClosed: 1,
			wantEvents: []string{"req 0 GET /a", "resp 0 200 for=/a", "req 0 GET /b", "close 0 rst"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newScript()
			cv := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
			n, tick := c.play(s, cv)
			rec := &recorder{}
			r := NewReassembler(rec, c.opts)
			for i := range s.pkts[:n] {
				p := s.pkts[i]
				r.Packet(&p)
			}
			if tick > 0 {
				r.Tick(s.pkts[n-1].Time.Add(tick))
				if len(rec.closed) != c.wantClosed {
					t.Errorf("%d closed %v after the last packet, want %d: %v", len(rec.closed), tick, c.wantClosed, rec.events)
				}
			}
			r.Finish()
			assertShortEvents(t, rec, c.wantEvents)
			first := rec.closed[0]
			if first.Ended != c.wantEnd || (first.RSTFrame[ServerToClient] != 0) != c.wantRSTFrame {
				t.Errorf("ended %s, server RST frame %d; want %s, kept %v", first.Ended, first.RSTFrame[ServerToClient], c.wantEnd, c.wantRSTFrame)
			}
			if got := r.Stats().Evicted; got != c.wantEvicted {
				t.Errorf("%d evicted, want %d", got, c.wantEvicted)
			}
		})
	}
}
