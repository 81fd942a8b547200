package reassembly

import (
	"net/netip"
	"time"
)

// Protocol is what a connection was found to carry.
type Protocol uint8

// Protocols a connection can be classified as.
const (
	ProtoUnknown Protocol = iota // not yet decided (too few bytes)
	ProtoHTTP1                   // HTTP/1.x: parsed
	ProtoHTTP2                   // HTTP/2 prior knowledge (h2c preface): counted, not parsed
	ProtoTLS                     // TLS records not decrypted (no key, or keys that failed): counted, not parsed
	ProtoOther                   // anything else: dropped after the detection window
)

var protoNames = [...]string{"unknown", "http/1.1", "http/2", "tls", "other"}

// String returns the protocol's short name.
func (p Protocol) String() string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return "UNKNOWN_PROTOCOL"
}

// EndReason says why a connection's tracking ended.
type EndReason uint8

// Reasons a connection ends.
const (
	EndOpen     EndReason = iota // still open
	EndFIN                       // both sides (or one side and then silence) sent FIN
	EndRST                       // a RST was seen
	EndIdle                      // no packet for the idle timeout (capture time)
	EndEvicted                   // pushed out of a full connection table
	EndCapture                   // the capture ended while it was open
	EndReplaced                  // a new SYN reused the 4-tuple
)

var endNames = [...]string{"open", "fin", "rst", "idle", "evicted", "capture_end", "replaced"}

// String returns the reason's short name.
func (r EndReason) String() string {
	if int(r) < len(endNames) {
		return endNames[r]
	}
	return "UNKNOWN_END"
}

// Conn describes one TCP connection (one Wireshark tcp.stream).
//
// The reassembler owns it and updates it as packets arrive; a Handler may
// read it during a callback and keep the pointer, but must not modify it,
// HandlerState aside.
type Conn struct {
	// ID is unique within a run, in order of each connection's first packet.
	ID int
	// File is the index of the capture file the connection was seen in.
	File int
	// Stream is Wireshark's tcp.stream index for the connection in its file.
	Stream int
	// Parts lists the files the connection went on into after File, when
	// it spans files that follow each other (a ring buffer's: see
	// OpenFiles), in order, each with the connection's tcp.stream there.
	// The connection's frames (FirstFrame, messages' frames) count on
	// through the chain's files: FrameLocator gives each file's own.
	Parts []ConnPart
	// Client and Server: the SYN's sender is the client; without a SYN, the
	// side that sent an HTTP request (or, failing that, the side with the
	// higher port) is. Both are fixed before the connection's first
	// Handler event, as are ID, File, Stream and Start.
	Client, Server netip.AddrPort
	// SawSYN is false when the capture started after the handshake
	// (mid-stream start).
	SawSYN bool
	// Start and FirstFrame are the first packet's; End and LastFrame the
	// last packet's seen so far.
	Start, End            time.Time
	FirstFrame, LastFrame int64
	// Protocol is what the payload was classified as.
	Protocol Protocol
	// Tunnel is what a CONNECT tunnel carried after its 2xx, as the
	// tunnel's first bytes say: ProtoTLS (decrypted or not: see Decrypted),
	// ProtoHTTP1 (plaintext, parsed as the connection's own messages),
	// ProtoHTTP2 or ProtoOther; ProtoUnknown when no tunnel was followed
	// or nothing went through it. Protocol stays ProtoHTTP1.
	Tunnel Protocol
	// Gaps counts the holes in each direction (indexed by Direction): bytes
	// the capture missed.
	Gaps [2]int
	// FIN and RST record, per direction, whether that side sent one, and
	// the frames; zero when not seen.
	FINFrame [2]int64
	RSTFrame [2]int64
	// CloseTime is, per direction, when that side first sent a FIN or RST.
	CloseTime [2]time.Time
	// Truncated counts the connection's segments that the capture's
	// snapshot length cut short.
	Truncated int
	// Requests and Responses count the HTTP messages parsed.
	Requests, Responses int
	// Ended says why tracking ended (EndOpen until then).
	Ended EndReason
	// HTTPErrors counts bytes or lines the HTTP parser could not make sense
	// of (resynchronisations).
	HTTPErrors int
	// Decrypted says the connection carried TLS that was decrypted with a
	// key source's secret: its messages are the plaintext's, and Protocol
	// what the plaintext carried. An undecrypted TLS connection has
	// Protocol ProtoTLS.
	Decrypted bool
	// TLS describes the TLS layer of a connection followed by the
	// decryptor (a key source existed); nil otherwise, and for plaintext
	// connections.
	TLS *TLSInfo
	// HandlerState is the Handler's own (nil at first): the reassembler
	// never reads or writes it, so that a Handler can keep its state for
	// the connection here and find it without a lookup on every event. A
	// Handler that passes the connection's events on to another Handler
	// leaves it to that one.
	HandlerState any
}

// Handler receives the reassembler's events. Calls are made from one
// goroutine per reassembly worker, in capture order for each connection:
//
//	ConnectionOpened, then Message 0+ times, then ConnectionClosed once.
//
// Messages of both directions arrive in the order they completed; a response
// is delivered with the request it answers (nil when the request was not
// captured).
//
// Messages are valid only during the call they are passed to: the
// reassembler reuses a Message, and the bytes its strings point into, once
// the call returns (as golang.org/x/net/http2's Framer reuses its frames).
// A Handler that keeps a message, or one of its strings, past the call
// keeps a copy: Message.Clone, or strings.Clone. Handlers must not modify
// messages.
type Handler interface {
	// ConnectionOpened is called when a connection is first classified as
	// HTTP/1.x (connections that never carry HTTP are reported only through
	// ConnectionClosed).
	ConnectionOpened(c *Conn)
	// Request is called when a request has been read whole (body included).
	// req is valid until Request returns.
	Request(c *Conn, req *Message)
	// Response is called when a response has been read whole; req is the
	// request it answers in order (pipelining respected), or nil. Both are
	// valid until Response returns.
	Response(c *Conn, req, resp *Message)
	// ConnectionClosed is called once when tracking of c ends, for every
	// connection, HTTP or not.
	ConnectionClosed(c *Conn)
}

// ConnPart is where a connection went on in a later file of its chain.
type ConnPart struct {
	// File indexes the run's inputs; Stream is the connection's tcp.stream
	// in that file; FirstFrame is the frame of its first packet there
	// (counted through the chain, as Packet.Frame).
	File, Stream int
	FirstFrame   int64
}
