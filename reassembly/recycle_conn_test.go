package reassembly

import (
	"errors"
	"fmt"
	"io"
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

// scriptSource replays a script's packets as a Source.
type scriptSource struct {
	pkts []Packet
	p    Packet
}

func (s *scriptSource) Next() (*Packet, error) {
	if len(s.pkts) == 0 {
		return nil, io.EOF
	}
	s.p, s.pkts = s.pkts[0], s.pkts[1:]
	return &s.p, nil
}

func (*scriptSource) Stats() SourceStats { return SourceStats{} }
func (*scriptSource) Close() error       { return nil }

// spacedSources plays sources one after the other, as files of one run,
// the i-th's packets moved i times apart later: captures recorded at the
// same instant then follow each other, and a later one's connections may
// reuse an earlier one's.
type spacedSources struct {
	srcs  []Source
	i     int
	apart time.Duration
}

func (s *spacedSources) Next() (*Packet, error) {
	for s.i < len(s.srcs) {
		p, err := s.srcs[s.i].Next()
		if errors.Is(err, io.EOF) {
			s.i++
			continue
		}
		if err != nil {
			return nil, err
		}
		p.File = s.i
		p.Time = p.Time.Add(time.Duration(s.i) * s.apart)
		return p, nil
	}
	return nil, io.EOF
}

func (*spacedSources) Stats() SourceStats { return SourceStats{} }

func (s *spacedSources) Close() error {
	for _, src := range s.srcs {
		src.Close()
	}
	return nil
}

// shardedKept gives each worker of a sharded run a keptConns of its own.
// The embedded one hears a run that is not sharded.
type shardedKept struct {
	keptConns
	shards []*keptConns
}

func (s *shardedKept) Shard(i, n int) Handler {
	if s.shards == nil {
		s.shards = make([]*keptConns, n)
	}
	s.shards[i] = &keptConns{}
	return s.shards[i]
}

// TestRecycledConnections: a Reassembler that recycles its connections
// delivers the same events, with the same Conns, as one that allocates
// each anew, whatever way connections end, whether sharded or not, TLS
// decrypted or not; the Conns a Handler kept still say what they said
// when closed; connections were recycled. The tests' poisoning
// (poisonConns) also proves the assembler never calls a connection after
// letting go of it.
func TestRecycledConnections(t *testing.T) {
	script := func(*testing.T) (Source, *KeyLog) {
		return &scriptSource{pkts: variedScript(400).pkts}, nil
	}
	tlsCaptures := func(t *testing.T) (Source, *KeyLog) {
		src := &spacedSources{apart: 10 * time.Minute}
		var keys []byte
		for _, c := range tlsTestdata {
			src.srcs = append(src.srcs, srcOpenBytes(t, readTestdata(t, c.name+".pcapng")))
			keys = append(keys, readTestdata(t, c.name+".keylog")...)
		}
		return src, keyLogOf(t, keys)
	}
	for _, tc := range []struct {
		name   string
		opts   Options
		source func(*testing.T) (Source, *KeyLog)
	}{
		{"defaults", Options{}, script},
		{"idle", Options{IdleTimeout: time.Second, GapWait: 100 * time.Millisecond}, script},
		{"evicting", Options{MaxConnections: 5, GapWait: 100 * time.Millisecond}, script},
		{"sharded", Options{Workers: 3, MaxConnections: 15, IdleTimeout: time.Second, GapWait: 100 * time.Millisecond}, script},
		{"tls", Options{}, tlsCaptures},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// run returns what each worker's Handler heard (one, unless
			// sharded), the stats, and the connections' reuses: -1 when
			// sharded, as Run keeps its workers' Reassemblers.
			run := func(noRecycle bool) ([]*keptConns, StreamStats, int) {
				src, keys := tc.source(t)
				defer src.Close()
				opts := tc.opts
				opts.noRecycle, opts.KeyLog = noRecycle, keys
				if opts.Workers > 1 {
					h := &shardedKept{}
					st, err := Run(src, h, opts)
					if err != nil {
						t.Fatal(err)
					}
					return h.shards, st, -1
				}
				k := &keptConns{}
				r := NewReassembler(k, opts)
				for {
					p, err := src.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					r.Packet(p)
				}
				r.Finish()
				reused := 0
				for c, ok := r.retired.Get(); ok; c, ok = r.retired.Get() {
					reused += int(c.reuses)
				}
				return []*keptConns{k}, r.Stats(), reused
			}
			wants, wantSt, _ := run(true)
			gots, gotSt, reused := run(false)
			if gotSt != wantSt {
				t.Errorf("stats %+v, want %+v", gotSt, wantSt)
			}
			if len(gots) != len(wants) {
				t.Fatalf("%d handlers, want %d", len(gots), len(wants))
			}
			ends := map[EndReason]int{}
			for i, got := range gots {
				want := wants[i]
				if g, w := strings.Join(got.events, "\n"), strings.Join(want.events, "\n"); g != w {
					t.Errorf("events differ with recycling:\n%s\nwant:\n%s", g, w)
				}
				if !reflect.DeepEqual(got.closed, want.closed) {
					t.Error("closed connections differ with recycling")
				}
				// The Conns kept are distinct and unchanged since their close.
				if len(got.byID) != len(got.closed) {
					t.Fatalf("%d Conns kept, %d closed", len(got.byID), len(got.closed))
				}
				for _, c := range got.closed {
					if kept := got.byID[c.ID]; !reflect.DeepEqual(*kept, c) {
						t.Errorf("conn %d changed after its close:\n got %+v\nwant %+v", c.ID, *kept, c)
					}
					ends[c.Ended]++
				}
			}
			t.Logf("ends: %v, stats %+v", ends, gotSt)
			if reused == 0 {
				t.Error("no connection was recycled")
			}
		})
	}
}
