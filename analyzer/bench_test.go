package analyzer

import (
	"fmt"
	"iter"
	"testing"
	"time"
)

// playBusy plays n clients through a balancer that closes after every Type 2
// (every handshake split) plus as many healthy keep-alive clients. With
// behind set, the capture is the backend side: every connection comes from
// the balancer, which names the client in X-Forwarded-For.
func playBusy(s *script, n int, behind bool) {
	for i := 0; i < n; i++ {
		ip := fmt.Sprintf("10.%d.%d.%d", 1+i/65536, (i/256)%256, i%256)
		addr := func(k int) string { return ip + ":5000" + itoa(k) }
		var xff []string
		if behind {
			addr = func(k int) string { return fmt.Sprintf("%s:%d", balancerIP, 1024+(3*i+k)%60000) }
			xff = []string{"X-Forwarded-For: " + ip}
		}
		a := s.conn(addr(0), vip)
		a.anon(server, xff...)
		ch := a.t1(server, "WEB0"+itoa(i%4), xff...)
		a.finServer()
		b := s.conn(addr(1), vip)
		b.req("GET", "/app", append([]string{server.cred(s.type3(`CORP\user`+itoa(i), ch, t3opts{}), false)}, xff...)...)
		b.resp(401, "WWW-Authenticate: NTLM")
		b.finClient()
		h := s.conn(addr(2), vip)
		h.anon(server, xff...)
		ch = h.t1(server, "WEB01", xff...)
		h.req("GET", "/app", append([]string{server.cred(s.type3(`CORP\ok`+itoa(i), ch, t3opts{}), false)}, xff...)...)
		h.resp(200)
		h.get(3, 200, xff...)
		h.finClient()
		s.wait(time.Millisecond)
	}
}

// TestScale checks that correlation stays near-linear: 5,000 clients
// (15,000 connections, 10,000 handshakes, half of them split), seen from
// the clients, then from the backends behind one balancer address.
func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	for _, behind := range []bool{false, true} {
		s := newScript(t)
		playBusy(s, 5000, behind)
		start := time.Now()
		r := s.finish()
		el := time.Since(start)
		if r.Summary.Handshakes != 10000 || r.Summary.HandshakesSplit != 5000 || r.Verdict.Code != VerdictBalancer {
			t.Errorf("behind=%v: summary = %+v, verdict %s", behind, r.Summary, r.Verdict.Code)
		}
		if el > 10*time.Second {
			t.Errorf("behind=%v: Finish took %v", behind, el)
		}
		t.Logf("behind=%v: Finish %v", behind, el)
	}
}

func BenchmarkFinish(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s := newScript(&testing.T{})
		playBusy(s, 2000, true)
		s.finish()
	}
}

// BenchmarkAnalyzer replays the recorded events of a 20 MB synthetic
// capture (internal/synth's default mix, seed 1: 1,631 HTTP connections,
// 7,528 requests and as many responses, about 1,200 handshakes) into a
// fresh Analyzer and finishes it: the analyzer's own CPU and allocations,
// without reading or reassembling packets. "Events" leaves Finish out.
func BenchmarkAnalyzer(b *testing.B) {
	events, stats := syntheticEvents(b, 20_000_000)
	b.Run("Events+Finish", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a := New(Options{HashKey: testKey})
			replay(a, events)
			a.Finish(stats)
		}
	})
	b.Run("Events", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			replay(New(Options{HashKey: testKey}), events)
		}
	})
}

// BenchmarkConnections builds every connection of the streaming report of
// a 50 MB synthetic capture (some 4,000 connections), as a renderer reads
// them: the cost of the report's connections, without encoding them, each
// built afresh (EachConnection) or with the lists of the one before
// (ConnectionsIn).
func BenchmarkConnections(b *testing.B) {
	events, stats := syntheticEvents(b, 50_000_000)
	a := New(Options{HashKey: testKey})
	replay(a, events)
	r := a.FinishStreaming(stats)
	for _, reuse := range []bool{false, true} {
		name := "EachConnection"
		seq := r.EachConnection
		if reuse {
			name, seq = "ConnectionsIn", func() iter.Seq[*Connection] { return r.ConnectionsIn(0, r.ConnectionCount()) }
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for c := range seq() {
					_ = c
				}
			}
			b.ReportMetric(float64(r.ConnectionCount()), "conns")
		})
	}
}
