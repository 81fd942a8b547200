package reassembly

// Limits on what one HTTPParser buffers. Bodies are never buffered: only
// start lines, header blocks, trailer sections and chunk-size lines are, and
// each only until it is complete.
const (
	// httpDetectWindow is how many bytes of a direction the parser reads
	// looking for a first start line before it calls the stream not HTTP.
	httpDetectWindow = 8 << 10
	// maxHeaderBytes bounds a header block (start line included) and a
	// trailer section.
	maxHeaderBytes = 64 << 10
	// maxHeaderFields bounds the field lines of a message, trailers included.
	maxHeaderFields = 256
	// maxStartLine bounds a request or status line.
	maxStartLine = 16 << 10
	// maxChunkLine bounds a chunk-size line with its extensions.
	maxChunkLine = 4 << 10
	// maxKeptBuffer is the largest buffer a parser keeps between blocks.
	maxKeptBuffer = 8 << 10
	// maxMethodLen bounds a request method: a longer run of token
	// characters is far likelier to be payload than a method.
	maxMethodLen = 32
)

// HTTPCallbacks connect a parser to its connection.
type HTTPCallbacks struct {
	// Message receives each complete message (body included). The parser
	// does not touch m afterwards.
	Message func(m *Message)
	// RequestMethod returns the method of the request that resp, the
	// idx-th final response the parser framed (0-based), answers, so that
	// the parser can frame its body (HEAD → no body, CONNECT 2xx →
	// tunnel): the idx-th request on the connection, unless responses
	// went unframed (resp.LostBefore, resp.Resynced, or a capture that
	// began after a request). ok=false when unknown (request not
	// captured): frame by headers alone. resp's body is not read yet.
	RequestMethod func(idx int, resp *Message) (method string, ok bool)
}

// parseState is where an HTTPParser stands in the byte stream.
type parseState uint8

const (
	stHunt       parseState = iota // looking for a start line at a line start
	stHeader                       // reading a start line and header block
	stBodyLength                   // counting a Content-Length body
	stBodyClose                    // counting a body delimited by close
	stChunkSize                    // reading a chunk-size line
	stChunkData                    // counting chunk data
	stChunkEnd                     // expecting the CRLF after chunk data
	stTrailer                      // reading a trailer section
	stDone                         // wants no more bytes
)

// msgKind is the kind of start line a parser accepts.
type msgKind uint8

const (
	kindAny      msgKind = iota // not yet known: detection accepts both
	kindRequest                 // request lines
	kindResponse                // status lines
)

// HTTPParser reads the HTTP/1.x messages of one direction of a TCP
// connection, incrementally, as reassembled bytes arrive.
//
// Calls: Feed and Gap any number of times, in stream order, then End once
// (or Tunnel, from the connection glue, at any time). Messages reach
// HTTPCallbacks.Message from inside Feed, Gap and End, in stream order. A
// parser is not safe for concurrent use.
//
// The parser first detects what the direction carries (see Protocol), then
// frames messages as RFC 9112 §6 says. It locks to the kind of the first
// start line it finds: a ClientToServer parser normally finds requests, but
// one whose direction was guessed wrong reads responses, and
// Message.Request says which. After a loss (a gap, malformed framing,
// garbage) it resynchronises on the next start line found at a line start.
//
// Memory is bounded: a header block is buffered up to 64 KiB and 256
// fields, a start line while detecting up to httpDetectWindow; bodies are
// counted and skipped, never copied.
type HTTPParser struct {
	// Fields are ordered small to large so that the struct packs tightly:
	// every TCP connection gets two parsers, and in real captures most
	// connections are not HTTP.
	dir   Direction
	state parseState
	proto Protocol
	kind  msgKind

	// Detection and resynchronisation.
	sniffing    bool // the first bytes may still be TLS or the HTTP/2 preface
	detecting   bool // no start line found yet
	hunting     bool // looking for a start line: detection or resync
	atLine      bool // while hunting: the next byte begins a line
	huntErr     bool // this resync's error has been counted
	resynced    bool // bytes were skipped since the last start line
	tunnelCheck bool // after CONNECT or Upgrade: non-HTTP bytes end the direction
	startResync bool // resynced, captured when the message's start line was found
	// lossBefore says bytes were lost since the last start line where
	// whole messages may have gone with them: anywhere but inside a body
	// whose length or close kept the framing. startLoss captures it when
	// the message's start line is found (Message.LostBefore).
	lossBefore, startLoss bool
	chunkSawCR            bool // stChunkEnd: the CR of the CRLF was read
	feeding               bool // inside Feed (Reopen from a Message callback)
	reopened              bool // Reopen was called during this Feed's current step
	sniffN                uint8
	sniff                 [len(h2Preface)]byte

	cb HTTPCallbacks
	// pool supplies the Messages; nil (a standalone parser) allocates
	// each one.
	pool *msgPool

	// offset counts the bytes fed so far; streamStart is the offset where
	// the direction's current stream began, 0 but after Reopen (the
	// detection window counts from there).
	offset, streamStart int64
	// feedStart is offset when the current Feed began: a message's first
	// byte lies offset-feedStart bytes past wire.seq. wire holds the
	// current Feed's TCP numbers (set around it by connState.parse), and
	// firstWire those of the message in progress's first byte.
	feedStart       int64
	wire, firstWire wireNums

	// buf holds a partial header block, trailer section or chunk-size line.
	// It is allocated only when one is split across Feeds.
	buf []byte
	blk blockScan
	// ends holds the offsets in the block of the line ends ('\n') of its
	// field lines, as scanBlock finds them: newMessage and parseFields
	// take the lines from there. Set up with room for a usual block's
	// lines (keptEnds), and kept, so that scanning allocates nothing.
	ends []int32

	// The message in progress. Its Frame and Time track the segment of its
	// last byte so far.
	msg       *Message
	firstSeg  Segment // segment of its first byte
	remaining int64   // body or chunk bytes still expected
	respIdx   int     // final responses framed so far (RequestMethod index)
	index     int     // messages emitted
	errors    int
}

// keptEnds is the line ends a parser is set up with room for: the field
// lines of a usual header block.
const keptEnds = 16

// NewHTTPParser returns a parser for direction dir of a connection.
func NewHTTPParser(dir Direction, cb HTTPCallbacks) *HTTPParser {
	p := new(HTTPParser)
	p.setUp(dir, cb, nil)
	return p
}

// setUp readies p, a zero parser, for direction dir: pool supplies its
// Messages (nil: each is allocated). It gets room for keptEnds line ends.
func (p *HTTPParser) setUp(dir Direction, cb HTTPCallbacks, pool *msgPool) {
	*p = HTTPParser{dir: dir, cb: cb, pool: pool, ends: make([]int32, 0, keptEnds)}
	p.init()
}

// init puts the parser at the start of a fresh stream.
func (p *HTTPParser) init() {
	p.state = stHunt
	p.sniffing = true
	p.detecting = true
	p.hunting = true
	p.atLine = true
}

// Reset readies the parser for a new connection, keeping its direction,
// callbacks and buffers (but a buffer an unusually large block grew, which
// resetBlock releases). Callbacks that must change per connection should
// reach the connection through a pointer the caller updates.
func (p *HTTPParser) Reset() {
	p.drop()
	p.resetBlock()
	*p = HTTPParser{dir: p.dir, cb: p.cb, pool: p.pool, buf: p.buf, ends: p.ends}
	p.init()
}

// Protocol returns what the direction was found to carry: ProtoUnknown
// while detecting, then ProtoHTTP1, ProtoHTTP2, ProtoTLS or ProtoOther.
func (p *HTTPParser) Protocol() Protocol { return p.proto }

// Done reports whether the parser wants no more bytes: the direction is not
// HTTP/1.x, became a tunnel, or ended.
func (p *HTTPParser) Done() bool { return p.state == stDone }

// Errors counts resynchronisations and malformed things skipped.
func (p *HTTPParser) Errors() int { return p.errors }

// Tunnel tells the parser that the rest of its direction is not HTTP (a
// CONNECT got a 2xx, or a 101 was sent): it stops quietly, dropping any
// message in progress.
func (p *HTTPParser) Tunnel() {
	p.state = stDone
	p.drop()
	p.resetBlock()
}

// Reopen tells the parser that its direction goes on as a new stream: a
// CONNECT tunnel's, whose first bytes say what it carries, as a
// connection's do. HTTP/1 inside (a plaintext tunnel; or TLS the glue
// decrypts) is parsed; anything else ends the direction within the
// detection window, TLS and the HTTP/2 preface at once. A message the
// tunnel's first bytes began already (a client that sent before the
// answer) is read on. The kind of message (requests or responses),
// message and final-response indexes and the error count go on, so that
// responses keep pairing with their requests; Protocol says what the
// tunnel carries. Reopen may be called from the Message callback.
func (p *HTTPParser) Reopen() {
	if p.msg != nil || (p.state == stHeader && len(p.buf) > 0) {
		// A message began already: the client did not wait for the
		// answer, and the tunnel carries HTTP (bytes that are not would
		// have stopped the direction: tunnelCheck). Go on with it.
		p.tunnelCheck = false
		return
	}
	p.drop()
	p.resetBlock()
	// kind stays: the client's direction still carries requests, the
	// server's responses, which is all the glue can pair.
	p.proto = ProtoUnknown // Protocol now says what the tunnel carries
	p.sniffN = 0
	p.resynced, p.huntErr, p.tunnelCheck, p.startResync = false, false, false, false
	p.lossBefore, p.startLoss = false, false
	p.init()
	// From inside Feed, the bytes of the step that called back are not
	// counted in offset yet: Feed sets streamStart after them.
	p.streamStart = p.offset
	p.reopened = p.feeding
}

// Feed parses the next bytes of the direction. seg is where they were
// captured; data is only read during the call.
func (p *HTTPParser) Feed(data []byte, seg Segment) {
	if p.state == stDone || len(data) == 0 {
		return
	}
	if p.sniffing && p.sniffData(data) {
		p.offset += int64(len(data))
		return
	}
	if p.state == stHunt {
		// Messages tend to start at segment boundaries: while hunting,
		// the first byte of a segment is as good a line start as one
		// after LF.
		p.atLine = true
	}
	p.feeding = true
	p.feedStart = p.offset
	for len(data) > 0 && p.state != stDone {
		n := p.step(data, seg)
		p.offset += int64(n)
		data = data[n:]
		if p.reopened {
			// A tunnel starts right after the message just emitted.
			p.reopened = false
			p.streamStart = p.offset
			if len(data) > 0 && p.sniffData(data) {
				p.offset += int64(len(data))
				break
			}
		}
	}
	p.feeding = false
}

// step consumes a prefix of data in the current state and returns its
// length. It consumes at least one byte or changes the state.
func (p *HTTPParser) step(data []byte, seg Segment) int {
	switch p.state {
	case stHunt:
		return p.stepHunt(data)
	case stHeader:
		return p.stepHeader(data, seg)
	case stBodyLength:
		return p.stepBodyLength(data, seg)
	case stBodyClose:
		p.msg.BodyBytes += int64(len(data))
		p.msg.setLast(seg)
		return len(data)
	case stChunkSize:
		return p.stepChunkSize(data, seg)
	case stChunkData:
		return p.stepChunkData(data, seg)
	case stChunkEnd:
		return p.stepChunkEnd(data, seg)
	case stTrailer:
		return p.stepTrailer(data, seg)
	}
	return len(data)
}

// Gap says that missing bytes (-1: an unknown number) were lost before the
// next Feed. A gap inside a Content-Length body only shortens it (the
// message is Incomplete); a gap inside a body delimited by close only marks
// it Incomplete; anywhere else the message in progress is abandoned and the
// parser resynchronises on the next start line.
func (p *HTTPParser) Gap(seg Segment, missing int) {
	if p.state == stDone {
		return
	}
	if p.sniffN > 0 {
		// The bytes after the gap do not continue the ones sniffed.
		p.sniffing = false
	}
	switch p.state {
	case stHunt:
		// The byte after a gap may start a message.
		p.atLine = true
		p.lossBefore = true
		return
	case stBodyLength:
		if missing >= 0 {
			p.gapInBody(int64(missing))
			return
		}
	case stBodyClose:
		// The close still delimits the body.
		p.msg.Incomplete = true
		return
	case stChunkSize, stChunkData, stChunkEnd, stTrailer:
	}
	p.lossBefore = true
	if p.state != stHeader && p.msg != nil {
		// The framing is lost but the header block was read whole: deliver
		// the message, marked Incomplete, because its headers (a 401's
		// challenge, say) are evidence; then hunt for the next one.
		p.msg.Incomplete = true
		p.emit()
	}
	switch p.state {
	case stHeader:
		if len(p.buf) == 0 {
			// Between messages: nothing is lost but what the gap held.
			p.startHunt(true)
			return
		}
		if p.hunting {
			// A candidate start line, not yet a message.
			p.skipped(1)
			p.startHunt(true)
			return
		}
	}
	p.abandon()
}

// gapInBody accounts for missing bytes of a Content-Length body.
func (p *HTTPParser) gapInBody(missing int64) {
	p.msg.Incomplete = true
	if missing < p.remaining {
		p.remaining -= missing
		return
	}
	// The body ended inside the gap. If the gap held more than the body,
	// the next message lost its first bytes: look for the one after.
	over := missing > p.remaining
	p.remaining = 0
	if over {
		p.lossBefore = true
		p.startHunt(true)
	} else {
		p.expectStart(p.msg)
	}
	p.emit()
}

// End says the direction ended (FIN, RST or end of capture). A body
// delimited by close is complete; a body cut short is emitted Incomplete; a
// partial header block is dropped and counted as an error.
func (p *HTTPParser) End(seg Segment) {
	state := p.state
	p.state = stDone
	switch state {
	case stDone:
		return
	case stBodyClose:
		p.emit()
	case stBodyLength, stChunkSize, stChunkData, stChunkEnd, stTrailer:
		p.msg.Incomplete = true
		p.emit()
	case stHeader:
		if len(p.buf) > 0 && !p.hunting {
			p.errors++
		}
	}
	p.resetBlock()
	if p.proto == ProtoUnknown && p.offset > p.streamStart {
		p.proto = ProtoOther
	}
}

// abandon drops the message in progress after a loss and resynchronises.
func (p *HTTPParser) abandon() {
	p.drop()
	p.errors++
	p.resynced = true
	p.huntErr = true
	p.startHunt(true)
}

// startHunt makes the parser look for the next start line; atLine says
// whether the next byte begins a line.
func (p *HTTPParser) startHunt(atLine bool) {
	p.resetBlock()
	p.state = stHunt
	p.hunting = true
	p.atLine = atLine
	p.tunnelCheck = false
}

// skipped records that n bytes (n > 0) were skipped while hunting: the next
// message is Resynced, and a resync (not detection) counts one error.
func (p *HTTPParser) skipped(n int) {
	if n <= 0 {
		return
	}
	p.resynced = true
	if !p.detecting && !p.huntErr {
		p.errors++
		p.huntErr = true
	}
}

// expectStart makes the parser expect the start line of the message after
// m.
func (p *HTTPParser) expectStart(m *Message) {
	p.state = stHeader
	// RFC 9110 §9.3.6, §7.8: after CONNECT or an Upgrade request, the
	// client may switch to another protocol before the response arrives.
	p.tunnelCheck = m.Request && (m.Method == "CONNECT" || m.Get("Upgrade") != "")
}

// drop discards the message in progress, which no one else has seen.
func (p *HTTPParser) drop() {
	if p.msg != nil {
		p.pool.put(p.msg)
		p.msg = nil
	}
}

// emit completes the message in progress and hands it to the callback,
// which owns it from then on. The parser's next state must be set before:
// the callback may call Tunnel.
func (p *HTTPParser) emit() {
	m := p.msg
	p.msg = nil
	m.Index = p.index
	p.index++
	if p.cb.Message != nil {
		p.cb.Message(m)
	}
}

// resetBlock forgets a partial header block, trailer or chunk-size line.
// A buffer grown by an unusually large block is released, so that a long
// connection does not hold on to it.
func (p *HTTPParser) resetBlock() {
	if cap(p.buf) > maxKeptBuffer {
		p.buf = nil
	}
	p.buf = p.buf[:0]
	p.blk = blockScan{}
	p.ends = p.ends[:0]
}
