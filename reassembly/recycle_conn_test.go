package reassembly

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// variedScript interleaves n conversations that end every way a
// connection can (FIN, RST, idleness, a new SYN on the 4-tuple, eviction,
// the capture's end), some in order on the fast path and some through
// gopacket's assembler (segments out of order, a RST while the assembler
// still holds the connection), HTTP or not, so that connections are
// finalised and recycled in every state.
func variedScript(n int) *script {
	var convs [][]Packet
	for i := range n {
		s := newScript()
		client := fmt.Sprintf("10.1.%d.%d:%d", i/200, i%200, 40000+i%7)
		c := s.conv(client, fmt.Sprintf("10.0.0.%d:80", 1+i%3), uint32(1000+i*7919))
		c.handshake()
		target := fmt.Sprintf("/c%d", i)
		req := "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"
		resp := "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + strings.Repeat("b", 40)
		switch i % 8 {
		case 0: // keep-alive, FIN
			c.send(true, req, 1460)
			c.send(false, resp, 1460)
			c.send(true, req, 1460)
			c.send(false, resp, 1460)
			c.close()
		case 1: // RST after the request
			c.send(true, req, 1460)
			s.add(c.server, c.client, c.sseq, c.cseq, "RA", "")
		case 2: // the response's segments out of order, then FIN
			c.send(true, req, 1460)
			c.send(false, resp, 20)
			k := len(s.pkts)
			s.pkts[k-1], s.pkts[k-3] = s.pkts[k-3], s.pkts[k-1]
			c.close()
		case 3: // out of order, then a RST while the assembler holds it
			c.send(true, req, 1460)
			c.send(false, resp, 20)
			k := len(s.pkts)
			s.pkts = s.pkts[:k-1] // a hole: the assembler waits
			s.pkts[k-2], s.pkts[k-3] = s.pkts[k-3], s.pkts[k-2]
			s.add(c.client, c.server, c.cseq, c.sseq, "RA", "")
		case 4: // left open: ends idle (or at the capture's end)
			c.send(true, req, 1460)
			c.send(false, resp[:30], 1460)
		case 5: // a new SYN on the 4-tuple while open
			c.send(true, req, 1460)
			d := s.conv(client, c.server.String(), c.cseq+500000)
			d.handshake()
			d.send(true, req, 1460)
			d.send(false, resp, 1460)
			d.close()
		case 6: // not HTTP
			c.send(true, "\x16\x03\x01 not http at all, just bytes\r\n", 1460)
			c.send(false, "more bytes", 1460)
			c.close()
		case 7: // mid-stream (no handshake seen), FIN
			s.pkts = s.pkts[:0]
			c.send(true, req, 1460)
			c.send(false, resp, 1460)
			c.close()
		}
		convs = append(convs, s.pkts)
	}
	// Interleave in waves of a few conversations, restamped 1 ms apart,
	// with a pause between waves now and then, long enough for idleness.
	out := newScript()
	at := out.t0
	for w := 0; w < len(convs); w += 12 {
		wave := convs[w:min(w+12, len(convs))]
		for k := 0; ; k++ {
			any := false
			for _, ps := range wave {
				if k < len(ps) {
					any = true
					p := ps[k]
					out.frame++
					at = at.Add(time.Millisecond)
					p.Frame, p.Time = out.frame, at
					out.pkts = append(out.pkts, p)
				}
			}
			if !any {
				break
			}
		}
		if w%36 == 24 {
			at = at.Add(3 * time.Second)
		}
	}
	return out
}

// keptConns records every event and keeps every Conn it is handed, with a
// copy of it at ConnectionClosed.
type keptConns struct {
	recorder
	byID map[int]*Conn
}

func (k *keptConns) ConnectionClosed(c *Conn) {
	if k.byID == nil {
		k.byID = map[int]*Conn{}
	}
	if old := k.byID[c.ID]; old != nil {
		panic(fmt.Sprintf("connection %d closed twice", c.ID))
	}
	k.byID[c.ID] = c
	k.recorder.ConnectionClosed(c)
}

// TestRecycledConnections: a Reassembler that recycles its connections
// delivers the same events, with the same Conns, as one that allocates
// each anew, whatever way connections end; the Conns a Handler kept still
// say what they said when closed; connections were recycled. The tests'
// poisoning (poisonConns) also proves the assembler never calls a
// connection after letting go of it.
func TestRecycledConnections(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"defaults", Options{}},
		{"idle", Options{IdleTimeout: time.Second, GapWait: 100 * time.Millisecond}},
		{"evicting", Options{MaxConnections: 5, GapWait: 100 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := variedScript(400)
			run := func(noRecycle bool) (*keptConns, *Reassembler) {
				k := &keptConns{}
				opts := tc.opts
				opts.noRecycle = noRecycle
				r := NewReassembler(k, opts)
				for i := range s.pkts {
					p := s.pkts[i]
					r.Packet(&p)
				}
				r.Finish()
				return k, r
			}
			want, wantR := run(true)
			got, gotR := run(false)
			if g, w := strings.Join(got.events, "\n"), strings.Join(want.events, "\n"); g != w {
				t.Errorf("events differ with recycling:\n%s\nwant:\n%s", g, w)
			}
			if !reflect.DeepEqual(got.closed, want.closed) {
				t.Error("closed connections differ with recycling")
			}
			if gotR.Stats() != wantR.Stats() {
				t.Errorf("stats %+v, want %+v", gotR.Stats(), wantR.Stats())
			}
			// The Conns kept are distinct and unchanged since their close.
			if len(got.byID) != len(got.closed) {
				t.Fatalf("%d Conns kept, %d closed", len(got.byID), len(got.closed))
			}
			for _, c := range got.closed {
				if kept := got.byID[c.ID]; !reflect.DeepEqual(*kept, c) {
					t.Errorf("conn %d changed after its close:\n got %+v\nwant %+v", c.ID, *kept, c)
				}
			}
			ends := map[EndReason]int{}
			for _, c := range got.closed {
				ends[c.Ended]++
			}
			t.Logf("ends: %v", ends)
			reused := 0
			for _, c := range gotR.retired {
				reused += int(c.reuses)
			}
			if reused == 0 {
				t.Error("no connection was recycled")
			}
		})
	}
}
