package reassembly

import (
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

// HeaderField is one HTTP header line as sent (name case preserved).
type HeaderField struct {
	Name, Value string
}

// Message is one HTTP/1.1 request or response.
//
// Bodies are never kept: only their length and framing. The strings of a
// message the parser made share one allocation, its header block (trailers
// take another): keeping any of them keeps the block, so clone what
// outlives the message.
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
	// GapsBefore counts the gaps seen on the connection in each direction
	// (indexed by Direction) before this message completed.
	GapsBefore [2]int
}

// Get returns the first value of the named header (case-insensitive), or "".
func (m *Message) Get(name string) string {
	for _, h := range m.Header {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Values returns every value of the named header (case-insensitive), in order.
func (m *Message) Values(name string) []string {
	var vs []string
	for _, h := range m.Header {
		if strings.EqualFold(h.Name, name) {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

// setLast records seg as where the message's last byte so far was captured.
func (m *Message) setLast(seg Segment) {
	m.Frame, m.Time = seg.Frame, seg.Time
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
