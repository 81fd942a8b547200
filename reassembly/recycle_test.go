package reassembly

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// This package's tests always poison released messages (message.go), so
// that every test of the reassembler also proves that nothing it keeps, and
// no Handler of the tests, holds a message past its call; and they check
// every call of gopacket's assembler on a connection against its recycling
// (recycle.go). Benchmarks run without: they measure what a user's build
// does.
func init() {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.bench=") && a != "-test.bench=" {
			return
		}
	}
	poisonMessages = true
	poisonConns = true
}

// describeMessage renders what a Handler reads of a message.
func describeMessage(m *Message) string {
	return fmt.Sprintf("%v %s %s %s %d %s %v f%d-%d i%d b%d", m.Request, m.Method, m.Target, m.Proto, m.Status, m.Reason,
		m.Header, m.FirstFrame, m.Frame, m.Index, m.BodyBytes)
}

// keeper keeps every message it is handed: a Clone, as the Handler
// contract asks, and the pointer itself, which it must not read later.
type keeper struct {
	seen   []string   // what each message said during its call
	clones []*Message // their clones
	kept   []*Message // the messages themselves
}

func (k *keeper) ConnectionOpened(*Conn) {}
func (k *keeper) ConnectionClosed(*Conn) {}
func (k *keeper) Request(_ *Conn, m *Message) {
	k.keep(m)
}
func (k *keeper) Response(_ *Conn, _, m *Message) {
	k.keep(m)
}
func (k *keeper) keep(m *Message) {
	k.seen = append(k.seen, describeMessage(m))
	k.clones = append(k.clones, m.Clone())
	k.kept = append(k.kept, m)
}

// TestRecycledMessageLeavesClonesAlone runs keep-alive exchanges, chunked
// bodies with trailers and obs-folded fields among them, through a
// Reassembler: its messages are reused (and poisoned on release), yet the
// clones a Handler made still say what the messages said during the call.
func TestRecycledMessageLeavesClonesAlone(t *testing.T) {
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	exchanges := []struct{ req, resp string }{
		{getReq, okResp},
		{"POST /b HTTP/1.1\r\nHost: x\r\nX-Fold: one\r\n two\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n"},
		{getReqB, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n"},
		{"HEAD /c HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"},
		{getReq, okResp},
	}
	for _, e := range exchanges {
		c.send(true, e.req, 20)
		c.send(false, e.resp, 20)
	}
	c.close()
	k := &keeper{}
	r := NewReassembler(k, Options{})
	for i := range s.pkts {
		p := s.pkts[i]
		r.Packet(&p)
	}
	r.Finish()

	if len(k.seen) != 11 {
		t.Fatalf("%d messages, want 11:\n%s", len(k.seen), strings.Join(k.seen, "\n"))
	}
	for _, want := range []string{"X-Fold one two", "X-Trailer t", "HEAD /c"} {
		if !strings.Contains(strings.Join(k.seen, "\n"), want) {
			t.Errorf("no message says %q:\n%s", want, strings.Join(k.seen, "\n"))
		}
	}
	distinct := map[*Message]bool{}
	for i, m := range k.kept {
		distinct[m] = true
		if got := describeMessage(k.clones[i]); got != k.seen[i] {
			t.Errorf("clone of message %d:\ngot  %s\nwant %s", i, got, k.seen[i])
		}
		if got := describeMessage(m); got == k.seen[i] {
			t.Errorf("message %d still reads %q after its call: not released", i, got)
		}
	}
	if len(distinct) >= len(k.kept) {
		t.Errorf("%d messages in %d Message values: none reused", len(k.kept), len(distinct))
	}
}

// TestMessageCloneOwnsItsStrings checks that a clone shares no byte with
// the message's buffer, and that reusing the message leaves the clone be.
func TestMessageCloneOwnsItsStrings(t *testing.T) {
	pool := &msgPool{}
	var got *Message
	p := NewHTTPParser(ClientToServer, HTTPCallbacks{Message: func(m *Message) { got = m }})
	p.pool = pool
	p.Feed([]byte("GET /x HTTP/1.1\r\nHost: h\r\nAuthorization: NTLM abc\r\n\r\n"), httpSeg(1))
	if got == nil {
		t.Fatal("no message")
	}
	want := describeMessage(got)
	c := got.Clone()
	buf := got.buf[:cap(got.buf)]
	lo, hi := uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(unsafe.Pointer(unsafe.SliceData(buf)))+uintptr(len(buf))
	for _, s := range []string{c.Method, c.Target, c.Proto, c.Header[0].Name, c.Header[1].Value} {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); p >= lo && p < hi {
			t.Errorf("clone's %q points into the message's buffer", s)
		}
	}
	if &c.Header[0] == &got.Header[0] {
		t.Error("clone shares the fields' array")
	}
	m := got
	pool.put(m)
	p.Feed([]byte("PUT /other/target HTTP/1.1\r\nX: y\r\n\r\n"), httpSeg(2))
	if got != m {
		t.Fatal("the released message was not reused")
	}
	if d := describeMessage(c); d != want {
		t.Errorf("clone after reuse:\ngot  %s\nwant %s", d, want)
	}
}

// TestMessageReleasedTwicePanics: a double release would hand one Message
// to two parsers.
func TestMessageReleasedTwicePanics(t *testing.T) {
	pool := &msgPool{}
	m := pool.get(0)
	pool.put(m)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	pool.put(m)
}

// countHandler counts events without allocating.
type countHandler struct{ requests, responses int }

func (*countHandler) ConnectionOpened(*Conn)               {}
func (*countHandler) ConnectionClosed(*Conn)               {}
func (h *countHandler) Request(*Conn, *Message)            { h.requests++ }
func (h *countHandler) Response(*Conn, *Message, *Message) { h.responses++ }

// TestKeepAliveMessagesDoNotAllocate: once a keep-alive connection is
// known, an exchange (a request and its response, one segment each)
// allocates nothing: the Messages and their header bytes are recycled.
func TestKeepAliveMessagesDoNotAllocate(t *testing.T) {
	const warm, runs = 2000, 1000
	req := "GET /ews/exchange.asmx HTTP/1.1\r\nHost: mail\r\nAuthorization: NTLM " + httpNTLMNegotiate + "\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<ok/>"
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:80", 1000)
	c.handshake()
	for range warm + runs + 1 {
		c.send(true, req, 1460)
		c.send(false, resp, 1460)
	}
	h := &countHandler{}
	r := NewReassembler(h, Options{})
	next := 0
	exchange := func() {
		for range 2 {
			r.Packet(&s.pkts[next])
			next++
		}
	}
	for next < 3+2*warm {
		r.Packet(&s.pkts[next])
		next++
	}
	if n := testing.AllocsPerRun(runs, exchange); n != 0 {
		t.Errorf("%v allocations per exchange, want 0", n)
	}
	if h.requests != warm+runs+1 || h.responses != warm+runs+1 {
		t.Errorf("%d requests, %d responses, want %d each", h.requests, h.responses, warm+runs+1)
	}
}
