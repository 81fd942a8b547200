package capwriter

import (
	"net/netip"
	"time"
)

// Dir is a direction of a conversation.
type Dir uint8

// Directions.
const (
	ToServer Dir = iota // client to server
	ToClient            // server to client
)

// String returns "to-server" or "to-client".
func (d Dir) String() string {
	if d == ToServer {
		return "to-server"
	}
	return "to-client"
}

// Default settings of a new [Conversation].
var (
	DefaultBase = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	DefaultStep = time.Millisecond
)

// DefaultMSS is the segment size a new [Conversation] sends.
const DefaultMSS = 1460

// Conversation scripts one TCP connection packet by packet. Sequence numbers
// start at fixed values (client 1000, server 5000) so tests can name them.
//
// Without [Conversation.Handshake] the capture starts mid-connection: the
// first segment is data, as when tcpdump started late.
type Conversation struct {
	Client, Server netip.AddrPort
	// MSS is the largest payload Send puts in one segment (1 for a segment
	// per byte). Zero means DefaultMSS.
	MSS int
	// Base and Step time-stamp the list Packets returns: packet k is at
	// Base + k*Step.
	Base time.Time
	Step time.Duration
	// Window is the advertised window of every segment.
	Window uint16

	isn  [2]uint32 // initial sequence number per direction
	next [2]uint32 // next sequence number to send
	sent [2][]byte // bytes sent so far, for Segment
	id   uint16
	pkts Packets
}

// NewConversation returns a conversation between client and server with
// the default MSS, base time and step.
func NewConversation(client, server netip.AddrPort) *Conversation {
	c := &Conversation{
		Client: client, Server: server,
		MSS: DefaultMSS, Base: DefaultBase, Step: DefaultStep, Window: 65535,
		isn: [2]uint32{1000, 5000},
	}
	c.next = [2]uint32{c.isn[0] + 1, c.isn[1] + 1}
	return c
}

// ends returns the source and destination of a segment sent in d.
func (c *Conversation) ends(d Dir) (src, dst netip.AddrPort) {
	if d == ToServer {
		return c.Client, c.Server
	}
	return c.Server, c.Client
}

// add appends a segment from d; the acknowledgment covers all the other
// side has sent.
func (c *Conversation) add(d Dir, seq uint32, f Flags, payload []byte) {
	src, dst := c.ends(d)
	var ack uint32
	if f.Has(ACK) {
		ack = c.next[1-d]
	}
	c.id++
	c.pkts = append(c.pkts, Packet{
		Src: src, Dst: dst, Seq: seq, Ack: ack, Flags: f,
		Window: c.Window, ID: c.id, Payload: payload,
	})
}

// Handshake adds SYN, SYN/ACK and ACK.
func (c *Conversation) Handshake() {
	c.add(ToServer, c.isn[ToServer], SYN, nil)
	c.add(ToClient, c.isn[ToClient], SYN|ACK, nil)
	c.add(ToServer, c.next[ToServer], ACK, nil)
}

// Send adds data from d, split into segments of at most MSS bytes; the
// last one carries PSH.
func (c *Conversation) Send(d Dir, data []byte) {
	mss := c.MSS
	if mss <= 0 {
		mss = DefaultMSS
	}
	c.sent[d] = append(c.sent[d], data...)
	for len(data) > 0 {
		n := min(mss, len(data))
		f := ACK
		if n == len(data) {
			f |= PSH
		}
		c.add(d, c.next[d], f, data[:n:n])
		c.next[d] += uint32(n)
		data = data[n:]
	}
}

// Close adds an orderly close: the client's FIN, the server's FIN/ACK and
// the client's last ACK.
func (c *Conversation) Close() {
	c.add(ToServer, c.next[ToServer], FIN|ACK, nil)
	c.next[ToServer]++
	c.add(ToClient, c.next[ToClient], FIN|ACK, nil)
	c.next[ToClient]++
	c.add(ToServer, c.next[ToServer], ACK, nil)
}

// Reset adds a RST/ACK sent in d.
func (c *Conversation) Reset(d Dir) {
	c.add(d, c.next[d], RST|ACK, nil)
}

// Segment returns (without adding it) a data segment carrying bytes
// [start, end) of what has been sent in d so far, with its original
// sequence numbers. Insert it with [Packets.Insert] to script a
// retransmission covering another range than the original segments.
func (c *Conversation) Segment(d Dir, start, end int) Packet {
	src, dst := c.ends(d)
	c.id++
	return Packet{
		Src: src, Dst: dst,
		Seq:    c.isn[d] + 1 + uint32(start),
		Ack:    c.next[1-d],
		Flags:  ACK | PSH,
		Window: c.Window, ID: c.id,
		Payload: c.sent[d][start:end:end],
	}
}

// Packets returns a copy of the segments added so far, time-stamped Base +
// k*Step.
func (c *Conversation) Packets() Packets {
	ps := make(Packets, len(c.pkts))
	copy(ps, c.pkts)
	return ps.Restamp(c.Base, c.Step)
}
