package reassembly

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	gpr "github.com/gopacket/gopacket/reassembly"
)

// connEndpointType names the synthetic endpoints under which connections
// are handed to gopacket's assembler. Each connection gets its own (its ID
// and the tuple side), so a 4-tuple reused with a new SYN is a new key to the
// assembler even while the old connection is still in its pool: gopacket
// drops a SYN on a half it considers established, and offers no way to remove
// one connection from its pool.
var connEndpointType = gopacket.RegisterEndpointType(0x4e54, gopacket.EndpointTypeMetadata{
	Name: "ntlmscope-conn",
	Formatter: func(b []byte) string {
		return "conn" // never shown to users
	},
})

// connState is one connection under analysis: the public Conn, its two
// HTTP parsers, request/response pairing, and the gopacket stream glue.
//
// A finalised connState is recycled for a later connection, with its
// parsers, their buffers and its queues (recycle.go); its Conn is not, as
// a Handler may keep that.
type connState struct {
	r     *Reassembler
	e     *entry
	conn  *Conn
	flows [2]gopacket.Flow // netFlow of packets sent by tuple side 0 and 1

	// clientSide is the tuple side (0 = e.key.a, 1 = e.key.b) of the
	// client, or -1 while unknown.
	clientSide int
	// gpFirstSide is the tuple side of the first packet handed to the
	// assembler (gpStarted): gopacket's TCPDirClientToServer means "same
	// direction as that packet".
	gpFirstSide int
	gpStarted   bool

	half [2]halfState // by tuple side: the in-order fast path
	// cutPending says a half's cut tail waits for the next packet
	// (halfState.cut, settleCut).
	cutPending bool
	// partFile is the file of the connection's latest packet (Conn.Parts).
	partFile int
	// wire holds the TCP numbers of the bytes the in-order path is
	// delivering (deliver), for parse to hand the parser.
	wire wireNums

	parsers [2]*HTTPParser // by Direction; nil until the direction carries data
	// parserMem holds the parsers, set up on first use (see parser).
	parserMem *[2]HTTPParser
	ended     [2]bool    // End was called on that direction's parser
	lastSeg   [2]Segment // last segment fed per direction
	fin       [2]bool    // by tuple side
	sawSYN    bool
	// sent is, by tuple side, the sequence number just past the last
	// byte the side was seen to send (SYN and FIN count one), once
	// sentKnown; suspect holds the side's RST that was not there, while
	// it may be refuted (reset.go).
	sent      [2]uint32
	sentKnown [2]bool
	sentSYN   [2]bool // sent was set by a SYN, and nothing else followed yet
	suspect   *[2]suspectReset

	// Pairing: requests waiting for their final response, and responses
	// that arrived before any request they could answer. Each holds a
	// reference to its Message (see unref).
	pending []*Message
	held    []*Message
	methods []string // methods of every request, by request index (see ownMethod)
	// respSkew counts the final responses emitted without a request (see
	// requestMethod).
	respSkew int

	heldEvents []heldEvent // events waiting for the end of a flush (emit.go)

	tls *tlsConn // TLS: the decryptor, when a key source exists (tls_conn.go)
	// tunnel: a CONNECT tunnel is followed (openTunnel). tunnelFresh:
	// none of its bytes has been routed yet, so its first bytes may
	// start TLS (tlsTake).
	tunnel, tunnelFresh bool

	opened    bool
	dropped   bool // no more reassembly: not HTTP, TLS, HTTP/2, or tunnel
	finalized bool
	// gpHeld says gopacket's assembler holds cs as the Stream of a
	// connection in its pool: from New until ReassemblyComplete, which
	// may come long after finalize (see recycle.go).
	gpHeld bool
	// reuses counts the recycled connState's past lives (recycle.go).
	reuses uint32
}

func (r *Reassembler) newConn(e *entry, p *Packet, side int) *connState {
	cs := r.reuseConn()
	cs.e, cs.clientSide, cs.partFile = e, -1, p.File
	cs.conn = &Conn{
		ID:         e.conv,
		File:       p.File,
		Stream:     e.stream,
		Start:      p.Time,
		End:        p.Time,
		FirstFrame: p.Frame,
		LastFrame:  p.Frame,
	}
	var a, b [9]byte
	binary.BigEndian.PutUint64(a[:8], uint64(cs.conn.ID))
	binary.BigEndian.PutUint64(b[:8], uint64(cs.conn.ID))
	b[8] = 1
	cs.flows[0] = gopacket.NewFlow(connEndpointType, a[:], b[:])
	cs.flows[1] = cs.flows[0].Reverse()
	e.live = cs
	r.tracker.activate(e)
	r.stats.Connections++
	return cs
}

// sideAddr returns the address of tuple side s.
func (cs *connState) sideAddr(s int) netip.AddrPort {
	return cs.e.key.side(s)
}

// setClient fixes which tuple side is the client.
func (cs *connState) setClient(side int) {
	cs.clientSide = side
	cs.conn.Client = cs.sideAddr(side)
	cs.conn.Server = cs.sideAddr(1 - side)
}

// guessClient decides the client side from the first payload when no SYN
// told it: a status line is sent by the server, a request line by the
// client; otherwise the side with the higher port is the client (servers
// listen on the lower, well-known port).
func (cs *connState) guessClient(p *Packet, side int) {
	payload := p.TCP.Payload
	switch {
	case peekStatusLine(payload):
		cs.setClient(1 - side)
	case peekRequestLine(payload):
		cs.setClient(side)
	default:
		if p.TCP.SrcPort > p.TCP.DstPort {
			cs.setClient(side)
		} else {
			cs.setClient(1 - side)
		}
	}
}

// direction maps a tuple side that sends to the HTTP direction.
func (cs *connState) direction(side int) Direction {
	if side == cs.clientSide {
		return ClientToServer
	}
	return ServerToClient
}

// parser returns the HTTP parser of direction d, setting up both
// directions' on first use.
func (cs *connState) parser(d Direction) *HTTPParser {
	if cs.parsers[d] == nil {
		if cs.parserMem == nil {
			cs.setUpParsers()
		}
		cs.parsers[d] = &cs.parserMem[d]
	}
	return cs.parsers[d]
}

// setUpParsers allocates the parsers of both directions together, the
// first data of most connections being followed by an answer, with one set
// of callbacks for the two. A recycled connState keeps them;
// connState.reset Resets them (recycle.go).
func (cs *connState) setUpParsers() {
	ps := new([2]HTTPParser)
	cb := HTTPCallbacks{Message: cs.onMessage, RequestMethod: cs.requestMethod}
	for d := range ps {
		ps[d].setUp(Direction(d), cb, &cs.r.msgs)
	}
	cs.parserMem = ps
}

// requestMethod returns the method of the request the final response
// resp, idx in the parser's count, answers. After lost server bytes it is
// the request answer will pair resp with. Else respSkew corrects the count
// for final responses that answer no captured request (a capture that
// began after the request) and for requests whose responses were lost:
// without it, every later response of a connection captured mid-stream or
// after a loss would be framed with the method of another request, a
// HEAD's body read as the next response, a CONNECT's 2xx missed.
func (cs *connState) requestMethod(idx int, resp *Message) (string, bool) {
	if (resp.Resynced || resp.LostBefore) && len(cs.pending) > 0 {
		// pending holds its messages, so the method is alive while the
		// parser frames resp.
		return cs.pending[cs.skippedBy(resp)].Method, true
	}
	idx -= cs.respSkew
	if idx >= 0 && idx < len(cs.methods) {
		return cs.methods[idx], true
	}
	return "", false
}

// Accept implements gopacket's reassembly.Stream.
func (cs *connState) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir gpr.TCPFlowDirection, nextSeq gpr.Sequence, start *bool, ac gpr.AssemblerContext) bool {
	if cs.finalized || cs.dropped {
		return false
	}
	if nextSeq == -1 && !tcp.SYN {
		// No SYN for this half: the capture started mid-connection (or the
		// SYN was lost). Start at the first segment seen.
		*start = true
	}
	if nextSeq != -1 && nextSeq.Difference(gpr.Sequence(tcp.Seq)) > 0 {
		// Out of order: the assembler will queue this segment with a
		// pointer to ac, so ac must not be reused for the next packet.
		cs.r.ctxKept = true
	}
	return true
}

// ReassembledSG implements gopacket's reassembly.Stream.
func (cs *connState) ReassembledSG(sg gpr.ScatterGather, ac gpr.AssemblerContext) {
	if cs.finalized || cs.dropped {
		return
	}
	if cs.cutPending {
		cs.settleCut(nil, -1) // bytes of a flush, not a copy of the cut
	}
	gdir, _, end, skip := sg.Info()
	side := cs.gpFirstSide
	if gdir == gpr.TCPDirServerToClient {
		side = 1 - side
	}
	if cs.clientSide < 0 {
		cs.setClient(side) // only a FIN-only half can get here first
	}
	d := cs.direction(side)
	p := cs.parser(d)
	length, _ := sg.Lengths()
	// Keep the fast path's idea of the next byte, in case the assembler
	// lets go of this half while the connection lives on.
	h := &cs.half[side]
	if skip > 0 {
		h.next += uint32(skip)
	}
	h.next += uint32(length)
	if skip > 0 {
		seg := cs.lastSeg[d]
		if length > 0 {
			seg = cs.segment(d, sg.CaptureInfo(0))
		}
		cs.gap(d, seg, skip)
	}
	if length > 0 && !p.Done() {
		cs.feed(p, d, sg, length)
	}
	if end {
		cs.half[side].finDone = true
		cs.endDirection(d)
	}
	cs.classify()
	if cs.half[0].finDone && cs.half[1].finDone {
		cs.finalize(EndFIN)
	}
}

// feed hands the reassembled bytes to the parser one packet at a time. The
// frame number travels in CaptureInfo.InterfaceIndex, which gopacket's
// assembler carries through but never reads.
//
// Each byte is attributed the highest frame number fed so far in its
// direction: the frame in which everything up to that byte had arrived. For
// in-order data that is the packet that carried the byte; when a
// retransmission fills a hole, it is the filling packet — the frame in which
// Wireshark shows a message that reassembly completed.
func (cs *connState) feed(p *HTTPParser, d Direction, sg gpr.ScatterGather, length int) {
	data := sg.Fetch(length)
	if sg.Stats().Chunks == 1 {
		cs.parse(p, d, data, cs.segment(d, sg.CaptureInfo(0))) // TLS: parse may decrypt
		return
	}
	for off := 0; off < length && !p.Done(); {
		ci := sg.CaptureInfo(off)
		frame := ci.InterfaceIndex
		// Binary search for the end of this packet's bytes: one packet's
		// bytes are contiguous in the scatter-gather list.
		lo, hi := off+1, length
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if sg.CaptureInfo(mid).InterfaceIndex == frame {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		cs.parse(p, d, data[off:lo], cs.segment(d, ci)) // TLS: parse may decrypt
		off = lo
	}
}

// segment returns the Segment for bytes carried by the packet ci describes,
// keeping the direction's running maximum frame (see feed).
func (cs *connState) segment(d Direction, ci gopacket.CaptureInfo) Segment {
	if f := int64(ci.InterfaceIndex); f > cs.lastSeg[d].Frame {
		cs.lastSeg[d] = Segment{Frame: f, Time: ci.Timestamp}
	}
	return cs.lastSeg[d]
}

// classify updates the connection's protocol from its parsers and drops
// the connection from reassembly once no parser wants more bytes.
func (cs *connState) classify() {
	var protos [2]Protocol
	done := true
	for d, p := range cs.parsers {
		if p == nil {
			done = false
			continue
		}
		protos[d] = p.Protocol()
		if !p.Done() {
			done = false
		}
	}
	proto := cs.conn.Protocol
	for _, p := range protos {
		switch {
		case p == ProtoHTTP1:
			proto = ProtoHTTP1
		case (p == ProtoTLS || p == ProtoHTTP2) && proto != ProtoHTTP1:
			proto = p
		case p == ProtoOther && proto == ProtoUnknown:
			proto = ProtoOther
		}
	}
	cs.conn.Protocol = proto
	if cs.tunnel && cs.conn.Tunnel == ProtoUnknown {
		// The reopened parsers' protocols are the tunnel's: the client's
		// first bytes speak first (TLS's ClientHello).
		for _, p := range protos {
			if p != ProtoUnknown {
				cs.conn.Tunnel = p
				break
			}
		}
	}
	// TLS and HTTP/2 are decided by either direction alone (TLS: unless
	// the decryptor still wants the bytes).
	if proto == ProtoTLS && !cs.tlsLive() || proto == ProtoHTTP2 {
		done = true
	}
	if done && !cs.dropped {
		cs.dropped = true
	}
}

// onMessage receives every message from both parsers and turns them into
// Handler events, pairing responses with requests.
//
// Messages are recycled (msgPool): each place that holds one past the
// Handler call it was made for, the pending and held queues and events
// held during a flush (emit.go), counts a reference, and the message goes
// back to the pool when the last is dropped. onMessage holds one itself
// while it runs.
func (cs *connState) onMessage(m *Message) {
	m.refs = 1
	defer cs.unref(m)
	m.GapsBefore = cs.conn.Gaps
	if !cs.opened {
		cs.opened = true
		cs.conn.Protocol = ProtoHTTP1
		cs.r.stats.HTTPConnections++
		cs.emit(evOpened, nil, nil)
	}
	if m.Request {
		cs.conn.Requests++
		if cs.methods == nil {
			// Room for a keep-alive connection's usual few requests in
			// one allocation, where growing from empty takes three.
			cs.methods = make([]string, 0, 8)
		}
		cs.methods = append(cs.methods, ownMethod(m.Method))
		// Responses held for want of a request: those that started before
		// this request did cannot answer it.
		for len(cs.held) > 0 && startsBefore(cs.held[0], m) {
			resp := popFront(&cs.held)
			if resp.Status >= 200 { // the parser counts final responses
				cs.respSkew++
			}
			cs.emit(evResponse, nil, resp)
			cs.unref(resp)
		}
		cs.emit(evRequest, m, nil)
		m.refs++
		cs.pending = append(cs.pending, m)
		for len(cs.held) > 0 && len(cs.pending) > 0 {
			resp := popFront(&cs.held)
			cs.answer(resp)
			cs.unref(resp)
		}
		return
	}
	cs.conn.Responses++
	if len(cs.pending) == 0 {
		// The request is still being read (a 401 sent before a large
		// body finished), or it was never captured: wait for it.
		m.refs++
		cs.held = append(cs.held, m)
		return
	}
	cs.answer(m)
}

// popFront removes the first message of a queue and returns it, with the
// queue's reference, which the caller drops. The last
// one is removed in place rather than sliced past, so that the next append
// reuses its slot: a keep-alive connection's one request at a time then
// takes no new array each.
func popFront(q *[]*Message) *Message {
	m := (*q)[0]
	(*q)[0] = nil
	if len(*q) == 1 {
		*q = (*q)[:0]
	} else {
		*q = (*q)[1:]
	}
	return m
}

// unref drops a reference to m; the last one gives it back to the pool.
func (cs *connState) unref(m *Message) {
	if poisonMessages && m.refs <= 0 {
		panic("reassembly: message released more often than it was referenced")
	}
	if m.refs--; m.refs == 0 {
		cs.r.msgs.put(m)
	}
}

// ownMethod returns a copy of a request method that does not share the
// message's buffer, as cs.methods outlives the message: the common
// methods as constants, which costs nothing, and others cloned.
func ownMethod(method string) string {
	switch method {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "CONNECT":
		return "CONNECT"
	case "PATCH":
		return "PATCH"
	case "PROPFIND":
		return "PROPFIND"
	case "RPC_IN_DATA":
		return "RPC_IN_DATA"
	case "RPC_OUT_DATA":
		return "RPC_OUT_DATA"
	}
	return strings.Clone(method)
}

// answer delivers a response with the request it answers: the head of the
// queue, except after lost server bytes (a gap, or a resynchronised
// parser), when responses may have been lost with them: the response then
// answers the latest queued request that started before it, and the
// requests skipped get none.
func (cs *connState) answer(resp *Message) {
	if resp.Resynced || resp.LostBefore {
		// The responses of the requests skipped went with the lost bytes
		// unframed (a gap inside a body that keeps its framing sets
		// neither flag), so the parser's count of final responses falls
		// behind the requests by as many.
		n := cs.skippedBy(resp)
		for range n {
			cs.unref(popFront(&cs.pending))
		}
		cs.respSkew -= n
	}
	req := cs.pending[0]
	// Interim responses do not answer the request: it stays queued for
	// the final one.
	interim := resp.Status >= 100 && resp.Status < 200 && resp.Status != 101
	if !interim {
		popFront(&cs.pending)
	}
	cs.emit(evResponse, req, resp)
	upgraded := resp.Status == 101
	connected := req.Method == "CONNECT" && resp.Status >= 200 && resp.Status < 300
	if !interim {
		cs.unref(req)
	}
	switch {
	case connected:
		cs.openTunnel()
	case upgraded:
		// WebSocket or h2c: nothing NTLM rides on after the switch.
		cs.endHTTP()
	}
}

// skippedBy returns how many queued requests a response read after lost
// server bytes skips: those before the latest one that did not start after
// it (startsBefore).
// It cannot be the head when a later request was sent before it: the
// client waits for a response before its next request (no browser
// pipelines), so the responses of the earlier ones are what was lost.
func (cs *connState) skippedBy(resp *Message) int {
	n := 0
	for n+1 < len(cs.pending) && !startsBefore(resp, cs.pending[n+1]) {
		n++
	}
	return n
}

// startsBefore reports whether a's first byte was sent before b's, where a
// and b go in opposite directions. TCP's numbers say so when one message's
// first packet acknowledges the other's first byte (acked): its sender had
// received that byte. Otherwise a must come first by both the file's order
// of frames and the timestamps. Either alone can mislead: a capture whose
// two directions come from two clocks (a full-duplex tap, two hosts
// merged) may stamp a response a little before its request, and one that
// writes its interfaces' packets in blocks (pcapng with several
// interfaces) may store it first; with both (two hosts' captures merged by
// time, their clocks apart by more than the server's reply takes), only
// the acknowledgment numbers tell. Messages of one connection are in one
// file, so their frames compare.
func startsBefore(a, b *Message) bool {
	if ab, ba := acked(b, a), acked(a, b); ab != ba {
		return ab
	}
	return a.FirstFrame < b.FirstFrame && a.FirstTime.Before(b.FirstTime)
}

// acked reports whether the packet that carried x's first byte
// acknowledges y's first byte: x's sender had y's first byte when it sent
// x's, so y started first. Both numbers must be known (Segment); seq
// arithmetic wraps (RFC 9293 §3.4).
func acked(x, y *Message) bool {
	return x.firstWire.hasAck && y.firstWire.hasSeq && int32(x.firstWire.ack-y.firstWire.seq) > 0
}

// endHTTP stops both parsers: the rest of the connection is not HTTP/1.
func (cs *connState) endHTTP() {
	for _, p := range cs.parsers {
		if p != nil {
			p.Tunnel()
		}
	}
	cs.classify()
}

// openTunnel follows the bytes of a CONNECT tunnel, as a proxy's client
// leg carries them after a 2xx: each direction is looked at afresh, as a
// new connection's first bytes are. Plaintext HTTP inside (curl
// --proxytunnel, say) is parsed on the same connection, after the CONNECT
// exchanges that authenticated the tunnel; TLS inside is decrypted when a
// key source has its secrets (tlsTake), else the directions end, as does
// anything else.
//
// The response's parser stopped at the 2xx (frameTunnel). The tunnel is
// not followed when the request's parser stopped already: the client sent
// tunnel bytes before the answer (badStart's tunnelCheck), which are gone,
// so the server's half would be read without the client's; or a direction
// ended.
func (cs *connState) openTunnel() {
	req, resp := cs.parsers[ClientToServer], cs.parsers[ServerToClient]
	if req == nil || resp == nil || req.Done() || cs.ended[ClientToServer] || cs.ended[ServerToClient] {
		cs.endHTTP()
		return
	}
	cs.tunnel, cs.tunnelFresh = true, true
	req.Reopen()
	resp.Reopen()
	cs.classify()
}

// finalize ends the connection's analysis: parsers are told the stream
// ended, held responses are delivered, and the Handler hears
// ConnectionClosed. It is safe to call more than once.
func (cs *connState) finalize(reason EndReason) {
	if cs.finalized {
		return
	}
	if cs.cutPending {
		cs.settleCut(nil, -1)
	}
	for d, p := range cs.parsers {
		if p != nil && !cs.ended[d] && !p.Done() {
			cs.ended[d] = true
			p.End(cs.lastSeg[d])
		}
	}
	cs.tlsFinish() // TLS: settle the outcome and the protocol
	for _, resp := range cs.held {
		cs.emit(evResponse, nil, resp)
		cs.unref(resp)
	}
	for _, req := range cs.pending {
		cs.unref(req)
	}
	clear(cs.held)
	clear(cs.pending)
	cs.held, cs.pending = cs.held[:0], cs.pending[:0]
	if _, pending := cs.resetPending(); pending && reason != EndFIN && reason != EndEvicted {
		reason = EndRST // a suspect RST nothing refuted (reset.go)
	}
	cs.finalized = true
	cs.conn.Ended = reason
	cs.conn.SawSYN = cs.sawSYN
	if cs.conn.Protocol == ProtoUnknown && cs.conn.Requests+cs.conn.Responses == 0 {
		for _, p := range cs.parsers {
			if p != nil && p.Protocol() != ProtoUnknown {
				cs.conn.Protocol = p.Protocol()
			}
		}
	}
	for _, p := range cs.parsers {
		if p != nil {
			cs.conn.HTTPErrors += p.Errors()
		}
	}
	cs.r.stats.count(cs.conn)
	cs.emit(evClosed, nil, nil)
	cs.e.live = nil
	cs.r.tracker.forget(cs.e)
	if !cs.gpHeld {
		cs.r.retire(cs)
	}
}

// ReassemblyComplete implements gopacket's reassembly.Stream: both halves
// closed (FIN or RST), or the assembler closed the stream on a flush.
func (cs *connState) ReassemblyComplete(ac gpr.AssemblerContext) bool {
	if !cs.finalized && cs.r.flushReason == EndIdle && !cs.e.lastSeen.Before(cs.r.idleCutoff) {
		// The assembler closed its halves for lack of packets on them, but
		// the other direction is busy on the fast path: the connection is
		// not idle. Its out-of-order halves go back to the fast path; a
		// later hole hands them to a new assembler connection.
		for i := range cs.half {
			cs.half[i].slow = false
		}
		cs.gpStarted = false
		cs.gpHeld = false // the pool lets go of it (true)
		return true
	}
	cs.gpHeld = false
	if cs.finalized {
		// Finalised earlier (a RST, idleness, eviction): the pool held
		// on to it until now.
		cs.r.retire(cs)
	} else {
		reason := cs.r.flushReason
		switch {
		case cs.conn.RSTFrame != [2]int64{}:
			reason = EndRST
		case cs.fin[0] && cs.fin[1]:
			reason = EndFIN
		}
		cs.finalize(reason)
	}
	return true
}

// pktContext is the AssemblerContext handed to gopacket with each packet.
type pktContext struct {
	ci gopacket.CaptureInfo
}

// GetCaptureInfo implements gopacket's reassembly.AssemblerContext.
func (c *pktContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// streamFactory hands gopacket the connState the driver is processing.
type streamFactory struct {
	current *connState
}

// New implements gopacket's reassembly.StreamFactory.
func (f *streamFactory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac gpr.AssemblerContext) gpr.Stream {
	cs := f.current
	cs.gpHeld = true
	if poisonConns {
		return &checkedStream{cs: cs, reuses: cs.reuses}
	}
	return cs
}
