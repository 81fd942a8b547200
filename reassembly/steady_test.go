package reassembly

import (
	"strings"
	"testing"
)

// steadyFeed opens a connection that sends first (the client's opening
// bytes decide what it is), then returns a function that feeds one more
// in-order segment of the same kind each call.
func steadyFeed(t testing.TB, first, next string) (*Reassembler, func()) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:443", 1000)
	c.handshake()
	c.send(true, first, 1460)
	r := NewReassembler(&recorder{}, Options{})
	for i := range s.pkts {
		r.Packet(&s.pkts[i])
	}
	s.pkts = s.pkts[:0]
	c.send(true, next, 1460)
	p := s.pkts[0]
	payload := len(p.TCP.Payload)
	return r, func() {
		p.Frame++
		p.Time = p.Time.Add(1000)
		p.TCP.Seq += uint32(payload)
		r.Packet(&p)
	}
}

// TestSteadyStateAllocs: once a connection is known, a packet allocates
// nothing when it carries no HTTP (TLS without keys, other binary
// protocols) or an HTTP body, which is skipped, not copied.
func TestSteadyStateAllocs(t *testing.T) {
	tls := "\x16\x03\x01\x00\x50" + strings.Repeat("\x01", 80)
	cases := []struct{ name, first, next string }{
		{"tls", tls, "\x17\x03\x03\x05\x00" + strings.Repeat("\xaa", 1200)},
		{"binary", "\x00\x00\x00\x85\xffSMBr" + strings.Repeat("\x00", 200), strings.Repeat("\x5a", 1400)},
		{"http body", "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n", strings.Repeat("b", 1400)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, feed := steadyFeed(t, tc.first, tc.next)
			for i := 0; i < 2000; i++ { // past any table growth
				feed()
			}
			if n := testing.AllocsPerRun(1000, feed); n != 0 {
				t.Errorf("%v allocations per packet, want 0", n)
			}
		})
	}
}

// BenchmarkSteadyState measures one in-order packet of a known connection.
func BenchmarkSteadyState(b *testing.B) {
	for _, bc := range []struct{ name, first, next string }{
		{"binary", "\x00\x00\x00\x85\xffSMBr" + strings.Repeat("\x00", 200), strings.Repeat("\x5a", 1400)},
		{"http body", "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n", strings.Repeat("b", 1400)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, feed := steadyFeed(b, bc.first, bc.next)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				feed()
			}
		})
	}
}
