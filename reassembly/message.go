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
// Bodies are never kept: only their length and framing.
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
