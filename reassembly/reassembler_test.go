package reassembly

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// event is one Handler call, recorded as text for easy comparison.
type recorder struct {
	events []string
	conns  []*Conn
	closed []Conn
}

func (r *recorder) ConnectionOpened(c *Conn) {
	r.conns = append(r.conns, c)
	r.events = append(r.events, fmt.Sprintf("open %d stream=%d client=%s", c.ID, c.Stream, c.Client))
}

func (r *recorder) Request(c *Conn, m *Message) {
	r.events = append(r.events, fmt.Sprintf("req %d %s %s frames=%d-%d gaps=%v", c.ID, m.Method, m.Target, m.FirstFrame, m.Frame, m.GapsBefore))
}

func (r *recorder) Response(c *Conn, req, m *Message) {
	reqTarget := "<nil>"
	if req != nil {
		reqTarget = req.Target
	}
	r.events = append(r.events, fmt.Sprintf("resp %d %d for=%s frames=%d-%d gaps=%v", c.ID, m.Status, reqTarget, m.FirstFrame, m.Frame, m.GapsBefore))
}

func (r *recorder) ConnectionClosed(c *Conn) {
	r.closed = append(r.closed, *c)
	r.events = append(r.events, fmt.Sprintf("close %d %s %s", c.ID, c.Ended, c.Protocol))
}

// script builds literal TCP packets of one or more conversations.
type script struct {
	pkts  []Packet
	t0    time.Time
	frame int64
}

type tcpConv struct {
	s              *script
	client, server netip.AddrPort
	cseq, sseq     uint32
}

func newScript() *script {
	return &script{t0: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
}

func (s *script) conv(client, server string, isn uint32) *tcpConv {
	return &tcpConv{s: s, client: netip.MustParseAddrPort(client), server: netip.MustParseAddrPort(server), cseq: isn, sseq: isn + 100000}
}

func (s *script) add(src, dst netip.AddrPort, seq, ack uint32, flags string, payload string) {
	s.frame++
	p := Packet{Frame: s.frame, Time: s.t0.Add(time.Duration(s.frame) * time.Millisecond), Src: src.Addr(), Dst: dst.Addr()}
	p.TCP = layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"), FIN: strings.Contains(flags, "F"), RST: strings.Contains(flags, "R")}
	p.TCP.Payload = []byte(payload)
	s.pkts = append(s.pkts, p)
}

func (c *tcpConv) handshake() {
	c.s.add(c.client, c.server, c.cseq, 0, "S", "")
	c.s.add(c.server, c.client, c.sseq, c.cseq+1, "SA", "")
	c.cseq++
	c.sseq++
	c.s.add(c.client, c.server, c.cseq, c.sseq, "A", "")
}

// send sends data from the client (fromClient) or server in segments of
// at most mss bytes.
func (c *tcpConv) send(fromClient bool, data string, mss int) {
	for len(data) > 0 {
		n := min(mss, len(data))
		if fromClient {
			c.s.add(c.client, c.server, c.cseq, c.sseq, "A", data[:n])
			c.cseq += uint32(n)
		} else {
			c.s.add(c.server, c.client, c.sseq, c.cseq, "A", data[:n])
			c.sseq += uint32(n)
		}
		data = data[n:]
	}
}

func (c *tcpConv) close() {
	c.s.add(c.client, c.server, c.cseq, c.sseq, "FA", "")
	c.cseq++
	c.s.add(c.server, c.client, c.sseq, c.cseq, "FA", "")
	c.sseq++
	c.s.add(c.client, c.server, c.cseq, c.sseq, "A", "")
}

func (s *script) run(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	r := NewReassembler(rec, Options{})
	for i := range s.pkts {
		p := s.pkts[i]
		r.Packet(&p)
	}
	r.Finish()
	return rec
}

const (
	getReq  = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	okResp  = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	getReqB = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
)

func TestReassemblerKeepAliveFIN(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()             // frames 1-3
	c.send(true, getReq, 10)  // frames 4-6
	c.send(false, okResp, 30) // frames 7-8
	c.send(true, getReqB, 1460)
	c.send(false, okResp, 1460)
	c.close()
	rec := s.run(t)
	want := []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 GET /a frames=4-6 gaps=[0 0]",
		"resp 0 200 for=/a frames=7-8 gaps=[0 0]",
		"req 0 GET /b frames=9-9 gaps=[0 0]",
		"resp 0 200 for=/b frames=10-10 gaps=[0 0]",
		"close 0 fin http/1.1",
	}
	assertEvents(t, rec, want)
	if got := rec.closed[0]; !got.SawSYN || got.Requests != 2 || got.Responses != 2 || got.FINFrame[0] != 11 || got.FINFrame[1] != 12 {
		t.Errorf("conn = %+v", got)
	}
}

func TestReassemblerOutOfOrderAndRetransmission(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq, 10) // frames 4,5,6
	// Deliver 4, 6, 5, and retransmit 4.
	s.pkts[4], s.pkts[5] = s.pkts[5], s.pkts[4]
	s.pkts = append(s.pkts, s.pkts[3])
	c.send(false, okResp, 1460)
	c.close()
	for i := range s.pkts {
		s.pkts[i].Frame = int64(i + 1)
	}
	rec := s.run(t)
	assertEvents(t, rec, []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 GET /a frames=4-6 gaps=[0 0]",
		"resp 0 200 for=/a frames=8-8 gaps=[0 0]",
		"close 0 fin http/1.1",
	})
}

func TestReassemblerMidStreamStart(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:8080", 1000)
	// No handshake: the capture starts with a response's tail.
	c.send(false, "lo", 10)
	c.send(true, getReq, 1460)
	c.send(false, okResp, 1460)
	rec := s.run(t)
	assertEvents(t, rec, []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 GET /a frames=2-2 gaps=[0 0]",
		"resp 0 200 for=/a frames=3-3 gaps=[0 0]",
		"close 0 capture_end http/1.1",
	})
	if rec.closed[0].SawSYN {
		t.Error("SawSYN set on a mid-stream connection")
	}
}

func TestReassemblerPortReuseNewStream(t *testing.T) {
	s := newScript()
	a := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	a.handshake()
	a.send(true, getReq, 1460)
	a.send(false, okResp, 1460)
	// Same 4-tuple, new SYN with another ISN, while the first never closed.
	b := s.conv("10.0.0.1:50000", "10.0.0.2:80", 900000)
	b.handshake()
	b.send(true, getReqB, 1460)
	b.send(false, okResp, 1460)
	b.close()
	rec := s.run(t)
	assertEvents(t, rec, []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 GET /a frames=4-4 gaps=[0 0]",
		"resp 0 200 for=/a frames=5-5 gaps=[0 0]",
		"close 0 replaced http/1.1",
		"open 1 stream=1 client=10.0.0.1:50000",
		"req 1 GET /b frames=9-9 gaps=[0 0]",
		"resp 1 200 for=/b frames=10-10 gaps=[0 0]",
		"close 1 fin http/1.1",
	})
}

func TestReassemblerGapInServerDirection(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq, 1460)
	c.send(false, okResp, 1460) // frame 5: lost
	c.send(true, getReqB, 1460)
	c.send(false, okResp, 1460)
	c.close()
	s.pkts = append(s.pkts[:4], s.pkts[5:]...)
	rec := s.run(t)
	assertEvents(t, rec, []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 GET /a frames=4-4 gaps=[0 0]",
		"req 0 GET /b frames=6-6 gaps=[0 0]",
		"resp 0 200 for=/b frames=7-7 gaps=[0 1]",
		"close 0 fin http/1.1",
	})
	if got := rec.closed[0].Gaps; got != [2]int{0, 1} {
		t.Errorf("gaps = %v, want [0 1]", got)
	}
}

// TestReassemblerSYNACKWithNewISN: two SYN-ACKs with different ISNs
// before any byte. In the lab's lossy runs the first never reached the
// client, which sent its SYN again; the server had dropped its half-open
// state (a full backlog, a SYN cookie) and answered with another ISN, which
// the client acknowledged (Wireshark, too, keeps one tcp.stream and counts
// the server's sequence numbers from it). Or the first was only late, and
// the client took it. Either way the server's bytes follow the ISN the
// client took: no gap, nothing lost.
func TestReassemblerSYNACKWithNewISN(t *testing.T) {
	for _, tc := range []struct {
		name       string
		takeSecond bool
	}{
		{"first lost, second taken", true},
		{"first late and taken", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript()
			c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
			first, second := c.sseq, c.sseq+31_000_000
			s.add(c.client, c.server, c.cseq, 0, "S", "")
			if tc.takeSecond {
				s.add(c.server, c.client, first, c.cseq+1, "SA", "") // lost on its way to the client
				s.add(c.client, c.server, c.cseq, 0, "S", "")        // the SYN again
				c.sseq = second
			} else {
				s.add(c.client, c.server, c.cseq, 0, "S", "")        // sent again before the late first SYN-ACK came
				s.add(c.server, c.client, first, c.cseq+1, "SA", "") // late
			}
			s.add(c.server, c.client, second, c.cseq+1, "SA", "")
			c.cseq++
			c.sseq++
			s.add(c.client, c.server, c.cseq, c.sseq, "A", "")
			c.send(true, getReq, 1460)
			c.send(false, okResp, 1460)
			c.close()
			rec := s.run(t)
			assertEvents(t, rec, []string{
				"open 0 stream=0 client=10.0.0.1:50000",
				"req 0 GET /a frames=6-6 gaps=[0 0]",
				"resp 0 200 for=/a frames=7-7 gaps=[0 0]",
				"close 0 fin http/1.1",
			})
			if got := rec.closed[0].Gaps; got != [2]int{} {
				t.Errorf("gaps = %v, want none", got)
			}
		})
	}
}

// TestReassemblerSYNACKAfterData: a SYN-ACK with another ISN after the
// server's first byte changes nothing.
func TestReassemblerSYNACKAfterData(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq, 1460)
	c.send(false, okResp, 1460)
	s.add(c.server, c.client, c.sseq+5_000_000, c.cseq, "SA", "") // stray
	c.send(true, getReqB, 1460)
	c.send(false, okResp, 1460)
	c.close()
	rec := s.run(t)
	assertEvents(t, rec, []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 GET /a frames=4-4 gaps=[0 0]",
		"resp 0 200 for=/a frames=5-5 gaps=[0 0]",
		"req 0 GET /b frames=7-7 gaps=[0 0]",
		"resp 0 200 for=/b frames=8-8 gaps=[0 0]",
		"close 0 fin http/1.1",
	})
}

func TestReassemblerNonHTTPCountsStreams(t *testing.T) {
	s := newScript()
	smb := s.conv("10.0.0.1:50001", "10.0.0.2:445", 1000)
	smb.handshake()
	smb.send(true, strings.Repeat("\x00\x00\x00\x85\xffSMBr", 2000), 1460)
	smb.close()
	tls := s.conv("10.0.0.1:50002", "10.0.0.2:443", 1000)
	tls.handshake()
	tls.send(true, "\x16\x03\x01\x00\x05hello", 1460)
	tls.close()
	h := s.conv("10.0.0.1:50003", "10.0.0.2:80", 1000)
	h.handshake()
	h.send(true, getReq, 1460)
	h.send(false, okResp, 1460)
	h.close()
	rec := s.run(t)
	if len(rec.conns) != 1 || rec.conns[0].Stream != 2 {
		t.Fatalf("HTTP connections %v, want one on stream 2", rec.events)
	}
	protos := map[int]Protocol{}
	for _, c := range rec.closed {
		protos[c.Stream] = c.Protocol
	}
	if protos[0] != ProtoOther || protos[1] != ProtoTLS || protos[2] != ProtoHTTP1 {
		t.Errorf("protocols by stream = %v", protos)
	}
}

func TestReassemblerEarlyResponseBeforeBody(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, "POST /rpc HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234", 1460)
	c.send(false, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", 1460)
	c.send(true, "56789", 1460)
	c.send(true, getReqB, 1460)
	c.send(false, okResp, 1460)
	c.close()
	rec := s.run(t)
	assertEvents(t, rec, []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 POST /rpc frames=4-6 gaps=[0 0]",
		"resp 0 401 for=/rpc frames=5-5 gaps=[0 0]",
		"req 0 GET /b frames=7-7 gaps=[0 0]",
		"resp 0 200 for=/b frames=8-8 gaps=[0 0]",
		"close 0 fin http/1.1",
	})
}

// TestReassemblerAckOrdersDirections: two hosts' captures merged by time,
// the server's clock behind by more than its reply takes, put a response
// before its request by both the order of frames and the timestamps. Its
// acknowledgment number, past the request's first byte, says that the
// server had the request: the response answers it. A response that does
// not acknowledge the request still precedes it.
func TestReassemblerAckOrdersDirections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix string                  // bytes before the request, in its segment
		ack    func(c *tcpConv) uint32 // the early response's
		want   []string
	}{
		{"acknowledges the request", "", func(c *tcpConv) uint32 { return c.cseq + uint32(len(getReqB)) }, []string{
			"req 0 GET /b frames=7-7 gaps=[0 0]",
			"resp 0 200 for=/b frames=6-6 gaps=[0 0]",
		}},
		{"acknowledges its first byte", "", func(c *tcpConv) uint32 { return c.cseq + 1 }, []string{
			"req 0 GET /b frames=7-7 gaps=[0 0]",
			"resp 0 200 for=/b frames=6-6 gaps=[0 0]",
		}},
		{"acknowledges what came before", "", func(c *tcpConv) uint32 { return c.cseq }, []string{
			"resp 0 200 for=<nil> frames=6-6 gaps=[0 0]",
			"req 0 GET /b frames=7-7 gaps=[0 0]",
		}},
		// A stray CRLF after a body starts the request's segment: the
		// request's first byte is two bytes in.
		{"acknowledges the CRLF before it", "\r\n", func(c *tcpConv) uint32 { return c.cseq + 2 }, []string{
			"resp 0 200 for=<nil> frames=6-6 gaps=[0 0]",
			"req 0 GET /b frames=7-7 gaps=[0 0]",
		}},
		{"acknowledges it after a CRLF", "\r\n", func(c *tcpConv) uint32 { return c.cseq + 3 }, []string{
			"req 0 GET /b frames=7-7 gaps=[0 0]",
			"resp 0 200 for=/b frames=6-6 gaps=[0 0]",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript()
			c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
			c.handshake()               // frames 1-3
			c.send(true, getReq, 1460)  // 4
			c.send(false, okResp, 1460) // 5
			// Frame 6, the response, stamped 1 ms before frame 7, the
			// request, which was sent before it (it acknowledges only
			// the bytes before it).
			s.add(c.server, c.client, c.sseq, tc.ack(c), "A", okResp)
			s.add(c.client, c.server, c.cseq, c.sseq, "A", tc.prefix+getReqB)
			c.sseq += uint32(len(okResp))
			c.cseq += uint32(len(tc.prefix + getReqB))
			c.close()
			rec := s.run(t)
			want := append([]string{
				"open 0 stream=0 client=10.0.0.1:50000",
				"req 0 GET /a frames=4-4 gaps=[0 0]",
				"resp 0 200 for=/a frames=5-5 gaps=[0 0]",
			}, tc.want...)
			assertEvents(t, rec, append(want, "close 0 fin http/1.1"))
		})
	}
}

func TestReassemblerRSTEnds(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq, 1460)
	s.add(c.server, c.client, c.sseq, c.cseq, "RA", "")
	rec := s.run(t)
	last := rec.closed[len(rec.closed)-1]
	if last.Ended != EndRST || last.RSTFrame[ServerToClient] != 5 {
		t.Errorf("conn ended %s, RST frames %v", last.Ended, last.RSTFrame)
	}
}

func assertEvents(t *testing.T, rec *recorder, want []string) {
	t.Helper()
	if strings.Join(rec.events, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(rec.events, "\n"), strings.Join(want, "\n"))
	}
}

func TestReassemblerSnaplenCutSegment(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq, 1460)
	c.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789", 1460) // frame 5
	c.send(true, getReqB, 1460)
	c.send(false, okResp, 1460)
	c.close()
	// The snaplen kept only the response's headers and 5 body bytes.
	p := &s.pkts[4]
	p.MissingBytes = 15
	p.Truncated = true
	p.TCP.Payload = p.TCP.Payload[:len(p.TCP.Payload)-15]
	rec := s.run(t)
	assertEvents(t, rec, []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 GET /a frames=4-4 gaps=[0 0]",
		"resp 0 200 for=/a frames=5-5 gaps=[0 1]",
		"req 0 GET /b frames=6-6 gaps=[0 1]",
		"resp 0 200 for=/b frames=7-7 gaps=[0 1]",
		"close 0 fin http/1.1",
	})
}

// TestReassemblerSnaplenCutThenWhole: a capture on two interfaces of
// different snaplens has each segment twice, cut short first. The whole
// copy that follows brings the cut tail, and no gap is told; a cut copy
// that follows brings only what it kept, and the gap waits on; a gap not
// filled before another packet, or before the connection ends, is told
// then.
func TestReassemblerSnaplenCutThenWhole(t *testing.T) {
	const resp = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n"
	cut := func(s *script, keep int) {
		p := &s.pkts[len(s.pkts)-1]
		p.MissingBytes = len(p.TCP.Payload) - keep
		p.Truncated = true
		p.TCP.Payload = p.TCP.Payload[:keep]
	}
	// copies adds the response's copies, each keeping that many bytes
	// (-1: whole).
	for _, tc := range []struct {
		name   string
		copies []int
		end    bool // the capture ends after the copies
		want   string
	}{
		{"whole after cut", []int{20, -1}, false, "resp 0 401 for=/a frames=5-6 gaps=[0 0]"},
		{"whole after two cuts", []int{20, 40, -1}, false, "resp 0 401 for=/a frames=5-7 gaps=[0 0]"},
		{"whole first", []int{-1, 20}, false, "resp 0 401 for=/a frames=5-5 gaps=[0 0]"},
		{"cut twice", []int{20, 40}, false, ""},
		{"cut at the end", []int{20}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript()
			c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
			c.handshake()
			c.send(true, getReq, 1460) // frame 4
			for _, keep := range tc.copies {
				s.add(c.server, c.client, c.sseq, c.cseq, "A", resp)
				if keep >= 0 {
					cut(s, keep)
				}
			}
			c.sseq += uint32(len(resp))
			if !tc.end {
				c.send(true, getReqB, 1460)
				c.send(false, okResp, 1460)
				c.close()
			}
			rec := s.run(t)
			var got []string
			gaps := 0
			for _, e := range rec.events {
				if strings.HasPrefix(e, "resp 0 401") {
					got = append(got, e)
				}
			}
			for _, c := range rec.closed {
				gaps = c.Gaps[ServerToClient]
			}
			if tc.want == "" {
				if len(got) != 0 || gaps != 1 {
					t.Errorf("cut response: events %q, %d server gaps; want none, 1 gap\n%s", got, gaps, strings.Join(rec.events, "\n"))
				}
				return
			}
			if len(got) != 1 || got[0] != tc.want || gaps != 0 {
				t.Errorf("events %q, %d server gaps; want %q, no gap\n%s", got, gaps, tc.want, strings.Join(rec.events, "\n"))
			}
		})
	}
}

// TestReassemblerSnaplenCutLongerCopy: a cut retransmission that carries
// more than the cut segment it repeats (a coalesced one) moves the lost
// tail's end on: the bytes lost are one gap, and the direction stays on
// the fast path.
func TestReassemblerSnaplenCutLongerCopy(t *testing.T) {
	body := strings.Repeat("b", 200)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n" + body
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq, 1460) // frame 4
	add := func(off, n, keep int) {
		s.add(c.server, c.client, c.sseq+uint32(off), c.cseq, "A", resp[off:off+n])
		p := &s.pkts[len(s.pkts)-1]
		p.MissingBytes, p.Truncated = n-keep, true
		p.TCP.Payload = p.TCP.Payload[:keep]
	}
	add(0, 60, 50)  // the headers and a few bytes: 10 lost
	add(0, 100, 55) // a coalesced copy, cut too: bytes 55 to 100 lost
	s.add(c.server, c.client, c.sseq+100, c.cseq, "A", resp[100:])
	c.sseq += uint32(len(resp))
	c.close()
	rec := s.run(t)
	last := rec.closed[len(rec.closed)-1]
	if last.Gaps[ServerToClient] != 1 {
		t.Errorf("%d server gaps, want 1\n%s", last.Gaps[ServerToClient], strings.Join(rec.events, "\n"))
	}
}

func TestReassemblerPartialOverlap(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq[:10], 1460)
	// A retransmission that repeats the first 10 bytes and carries the rest.
	s.add(c.client, c.server, c.cseq-10, c.sseq, "A", getReq)
	c.cseq += uint32(len(getReq) - 10)
	c.send(false, okResp, 1460)
	c.close()
	rec := s.run(t)
	assertEvents(t, rec, []string{
		"open 0 stream=0 client=10.0.0.1:50000",
		"req 0 GET /a frames=4-5 gaps=[0 0]",
		"resp 0 200 for=/a frames=6-6 gaps=[0 0]",
		"close 0 fin http/1.1",
	})
}

// TestReassemblerSlowHalfIdleRevert: a direction handed to the assembler
// after a hole that then goes quiet while the other direction stays busy
// must not end the connection at the assembler's idle flush.
func TestReassemblerSlowHalfIdleRevert(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq, 1460)       // 4
	c.send(false, okResp[:10], 1460) // 5: dropped below
	c.send(false, okResp[10:], 1460) // 6: leaves a hole
	for i := 0; i < 8; i++ {
		// The client keeps sending (a long upload) for 8 minutes.
		s.add(c.client, c.server, c.cseq, c.sseq, "A", "")
		s.pkts[len(s.pkts)-1].Time = s.t0.Add(time.Duration(i+1) * time.Minute)
	}
	s.pkts = append(s.pkts[:4], s.pkts[5:]...)
	rec := NewReassembler(&recorder{}, Options{IdleTimeout: 5 * time.Minute})
	for i := range s.pkts {
		p := s.pkts[i]
		rec.Packet(&p)
	}
	if got := rec.tracker.active.n; got != 1 {
		t.Fatalf("active connections %d, want 1 (the connection is not idle)", got)
	}
}

// TestReassemblerTickEndsIdle: with no packets arriving, Tick ends idle
// connections on time (a live capture on a quiet interface).
func TestReassemblerTickEndsIdle(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	c.send(true, getReq, 1460)
	c.send(false, okResp, 1460)
	rec := &recorder{}
	r := NewReassembler(rec, Options{IdleTimeout: time.Minute})
	for i := range s.pkts {
		p := s.pkts[i]
		r.Packet(&p)
	}
	r.Tick(s.t0.Add(30 * time.Second))
	if len(rec.closed) != 0 {
		t.Fatalf("closed after 30 s: %v", rec.events)
	}
	r.Tick(s.t0.Add(2 * time.Minute))
	if len(rec.closed) != 1 || rec.closed[0].Ended != EndIdle {
		t.Fatalf("not ended as idle after 2 min: %v", rec.events)
	}
}
