package reassembly

import (
	"github.com/ntlmscope/ntlmscope/internal/freelist"
	"strings"
	"time"
)

// Direction says which way bytes travel on a connection.
type Direction uint8

const (
	// ClientToServer is the direction of requests.
	ClientToServer Direction = 0
	// ServerToClient is the direction of responses.
	ServerToClient Direction = 1
)

// String returns "client" or "server" for the side that sends.
func (d Direction) String() string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}

// Segment locates a piece of a reassembled byte stream in the capture.
type Segment struct {
	// Frame is the 1-based frame number of the packet that carried the
	// bytes (in the connection's file).
	Frame int64
	// Time is that packet's capture timestamp.
	Time time.Time
}

// wireNums are TCP's numbers for bytes fed to a parser: the sequence
// number of the first byte and the packet's acknowledgment number, when
// known (hasSeq, hasAck). Bytes from the in-order path carry both (see
// connState.deliver); bytes from gopacket's assembler, decrypted TLS and
// a standalone parser carry neither. They ride beside the Segment, which
// every step of the parser copies, rather than in it.
type wireNums struct {
	seq, ack       uint32
	hasSeq, hasAck bool
}

// HeaderField is one HTTP header line as sent (name case preserved).
type HeaderField struct {
	Name, Value string
}

// Message is one HTTP/1.1 request or response.
//
// Bodies are never kept: only their length and framing.
//
// A Message that a Reassembler hands to a Handler, and every string in it,
// is valid only until the Handler method returns: the reassembler then
// reuses the Message and the buffer its strings point into for a later
// message. A Handler that keeps a message, or any of its strings, keeps a
// Clone (or copies the strings with strings.Clone). Messages from a
// standalone HTTPParser are not reused.
type Message struct {
	// Request is true for requests, false for responses.
	Request bool
	// Method, Target and Proto are the request line (Proto also for
	// responses, e.g. "HTTP/1.1").
	Method, Target, Proto string
	// Status and Reason are the status line of a response.
	Status int
	Reason string
	// Header holds the header fields in order (trailers of a chunked body
	// are appended after them).
	Header []HeaderField

	// FirstFrame and FirstTime are where the message's first byte was
	// captured; Frame and Time where its last byte (end of body) was, which
	// is the frame Wireshark shows the message in.
	FirstFrame int64
	FirstTime  time.Time
	Frame      int64
	Time       time.Time

	// firstWire holds the sequence number of the message's first byte and
	// the acknowledgment number of the packet that carried it, when known
	// (see wireNums): they order the two directions of a connection where
	// the capture's order and clocks cannot (acked).
	firstWire wireNums

	// Index counts the messages of this direction on the connection, from 0.
	Index int
	// HeaderBytes is the size of the start line and header block.
	HeaderBytes int
	// BodyBytes counts the body bytes seen (decoded chunk data for chunked
	// bodies).
	BodyBytes int64
	// Chunked is set for Transfer-Encoding: chunked bodies.
	Chunked bool
	// BodyToClose is set for a response body delimited by the connection's
	// close.
	BodyToClose bool
	// Incomplete is set when the body did not arrive whole: a gap inside it,
	// or the connection ended before its declared length.
	Incomplete bool
	// Resynced is set when the parser skipped bytes that were no HTTP before
	// it found this message (after a gap or a mid-stream start).
	Resynced bool
	// LostBefore is set when bytes of the message's direction were lost
	// since the previous message started, other than inside a body whose
	// length (or the connection's close) kept the framing: whole messages
	// may have been lost before this one.
	LostBefore bool
	// GapsBefore counts the gaps seen on the connection in each direction
	// (indexed by Direction) before this message completed.
	GapsBefore [2]int

	// buf holds a copy of the header block, which the strings above
	// point into (unsafe.String); a recycled Message reuses it.
	buf []byte
	// refs counts the references a connection holds while the message is
	// being delivered or waits in a queue (stream.go, emit.go): it goes
	// back to its pool at zero. -1 once released.
	refs int32
}

// Clone returns a deep copy of m that owns its strings: it stays valid
// after the Handler call that m was passed to returns. The copy's strings
// share one allocation.
func (m *Message) Clone() *Message {
	c := *m
	c.buf, c.refs = nil, 0
	n := len(m.Method) + len(m.Target) + len(m.Proto) + len(m.Reason)
	for _, h := range m.Header {
		n += len(h.Name) + len(h.Value)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(m.Method)
	b.WriteString(m.Target)
	b.WriteString(m.Proto)
	b.WriteString(m.Reason)
	for _, h := range m.Header {
		b.WriteString(h.Name)
		b.WriteString(h.Value)
	}
	s := b.String()
	next := func(v string) string {
		v, s = s[:len(v)], s[len(v):]
		return v
	}
	c.Method, c.Target, c.Proto, c.Reason = next(m.Method), next(m.Target), next(m.Proto), next(m.Reason)
	if m.Header != nil {
		c.Header = make([]HeaderField, len(m.Header))
		for i, h := range m.Header {
			c.Header[i] = HeaderField{Name: next(h.Name), Value: next(h.Value)}
		}
	}
	return &c
}

// Get returns the first value of the named header (ASCII case-insensitive:
// field names are tokens), or "".
func (m *Message) Get(name string) string {
	for _, h := range m.Header {
		if fieldIs(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Values returns every value of the named header (ASCII case-insensitive),
// in order.
func (m *Message) Values(name string) []string {
	var vs []string
	for _, h := range m.Header {
		if fieldIs(h.Name, name) {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

// setLast records seg as where the message's last byte so far was captured.
func (m *Message) setLast(seg Segment) {
	m.Frame, m.Time = seg.Frame, seg.Time
}

// Recycling. Parsing a message used to allocate its Message and a copy of
// its header block, the largest share of what a run allocates; the
// garbage collector's work grew with it. The parsers of a Reassembler's
// connections take their Messages from the Reassembler's msgPool instead,
// and a connection gives each back once the Handler has seen it and no
// queue holds it (connState.unref). A Reassembler runs on one goroutine,
// so the pool needs no lock.

// Bounds on what a pool keeps: the largest buffer and field array a pooled
// Message brings back (a message with an unusually large header block
// does not pin its buffer). The pool keeps up to maxFree Messages
// (freelist.go), more than a run has in flight at once (a Message with
// its buffer takes about a kilobyte).
const (
	maxPooledBuf    = maxKeptBuffer
	maxPooledFields = 64
)

// msgPool holds Messages for reuse. A nil *msgPool allocates every
// Message and never takes one back.
type msgPool struct {
	free freelist.List[*Message]
}

// get returns an empty Message whose Header has room for n fields.
func (p *msgPool) get(n int) *Message {
	if p == nil {
		return allocMessage(n)
	}
	m, ok := p.free.Get()
	if !ok {
		return allocMessage(n)
	}
	m.refs = 0
	if cap(m.Header) < n {
		m.Header = make([]HeaderField, 0, n)
	}
	return m
}

// put takes m back: it must not be used (nor any of its strings) after.
func (p *msgPool) put(m *Message) {
	if p == nil {
		return
	}
	if m.refs < 0 {
		panic("reassembly: message released twice")
	}
	buf, h := m.buf[:0], m.Header[:0]
	if poisonMessages {
		poison(m)
	}
	if cap(buf) > maxPooledBuf {
		buf = nil
	}
	if cap(h) > maxPooledFields {
		h = nil
	}
	*m = Message{buf: buf, Header: h, refs: -1}
	p.free.Put(m, maxFree)
}

// poisonMessages makes released Messages unusable: their header bytes are
// overwritten and their fields zeroed, so that a Handler or a queue that
// kept one shows up in the tests as wrong output instead of going unseen
// until a later message happens to reuse it. It is set by the
// ntlmscope_poison build tag (poison_on.go), which the Makefile's tests
// use, and always in this package's tests.
var poisonMessages = poisonBuild

// poison overwrites what m's strings may point into: its header block
// buffer and its fields' array (the names and values a Handler kept by
// keeping m.Header).
func poison(m *Message) {
	b := m.buf[:cap(m.buf)]
	for i := range b {
		b[i] = 0xAA
	}
	h := m.Header[:cap(m.Header)]
	for i := range h {
		h[i] = HeaderField{Name: "\xaa", Value: "\xaa"}
	}
}

// allocMessage returns a new Message whose Header has room for n fields.
//
// For the field counts of almost every message the Message and its fields'
// array share one allocation, of the same size class as the two separate
// ones would take. n comes from the lines of a header block the parser
// holds, so that block's size bounds it.
func allocMessage(n int) *Message {
	if n > 0 && n < len(messageBoxes) {
		return messageBoxes[n]()
	}
	return &Message{Header: make([]HeaderField, 0, n)}
}

// msgBox is a Message and the array of its first header fields, allocated
// together. A is [n]HeaderField.
type msgBox[A any] struct {
	m Message
	f A
}

// messageBoxes[n] allocates a msgBox for exactly n fields. One type per n,
// not a few rounded-up capacities: size classes are only 16 to 64 bytes
// apart here, so an exact box takes no more memory than a separate Message
// and fields slice did, where a rounded one would take more.
var messageBoxes = [...]func() *Message{
	1:  func() *Message { b := new(msgBox[[1]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	2:  func() *Message { b := new(msgBox[[2]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	3:  func() *Message { b := new(msgBox[[3]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	4:  func() *Message { b := new(msgBox[[4]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	5:  func() *Message { b := new(msgBox[[5]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	6:  func() *Message { b := new(msgBox[[6]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	7:  func() *Message { b := new(msgBox[[7]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	8:  func() *Message { b := new(msgBox[[8]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	9:  func() *Message { b := new(msgBox[[9]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	10: func() *Message { b := new(msgBox[[10]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	11: func() *Message { b := new(msgBox[[11]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	12: func() *Message { b := new(msgBox[[12]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	13: func() *Message { b := new(msgBox[[13]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	14: func() *Message { b := new(msgBox[[14]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	15: func() *Message { b := new(msgBox[[15]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
	16: func() *Message { b := new(msgBox[[16]HeaderField]); b.m.Header = b.f[:0]; return &b.m },
}
