package reassembly

import (
	"bytes"
	"strings"
	"unsafe"
)

// blockScan is the progress of the search for the end of a header block
// (or trailer section), in offsets from the block's first byte.
type blockScan struct {
	scan      int  // bytes searched for line ends
	lineStart int  // start of the current line
	lines     int  // field lines so far (trailers: the message's too)
	startDone bool // the start line was checked (trailers have none)
	checked   int  // length of the start line's prefix last checked
	startEnd  int  // offset of the start line's end ('\n'), once startDone
}

// blockResult is what reading a header block came to.
type blockResult uint8

const (
	blockMore     blockResult = iota // incomplete: buffered, more bytes needed
	blockDone                        // complete
	blockBadStart                    // the first line is no start line
	blockTooBig                      // over maxHeaderBytes or maxHeaderFields
)

// stepHeader reads a start line and header block (RFC 9112 §2.1):
//
//	HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
//
// then frames the body.
func (p *HTTPParser) stepHeader(data []byte, seg Segment) int {
	pos := 0
	// A block carried over from earlier segments: data starts a Feed
	// (readBlock consumes a whole Feed once it buffers).
	carried := len(p.buf) > 0
	if !carried {
		// RFC 9112 §2.2: a recipient SHOULD ignore at least one empty line
		// before a request line (clients send a stray CRLF after a body).
		for pos < len(data) && (data[pos] == '\r' || data[pos] == '\n') {
			pos++
		}
		if pos == len(data) {
			return pos
		}
		p.firstSeg, p.firstWire = seg, p.wire
		if p.wire.hasSeq {
			// The Feed's seq is its first byte's; the message's starts
			// further in.
			p.firstWire.seq += uint32(p.offset + int64(pos) - p.feedStart)
		}
	}
	n, block, res := p.readBlock(data[pos:])
	end := pos + n
	switch res {
	case blockDone:
		p.headerDone(block, seg)
	case blockBadStart:
		if carried {
			// The line begun in an earlier segment is no start line,
			// but this segment may begin one (a capture starting with
			// the tail of a body, say): look again from its first byte.
			p.badStart(true)
			return 0
		}
		p.badStart(data[end-1] == '\n')
	case blockTooBig:
		p.errors++
		p.resynced = true
		p.huntErr = true
		p.startHunt(data[end-1] == '\n')
	}
	return end
}

// readBlock advances the header block (or trailer section) in progress
// with data, which is not empty. It returns the bytes of data consumed and,
// when blockDone, the whole block (valid until the next call).
//
// A block that arrives whole in one Feed is read in place; only a block
// split across Feeds is copied into p.buf, and only up to its end.
func (p *HTTPParser) readBlock(data []byte) (int, []byte, blockResult) {
	if len(p.buf) == 0 {
		b := data[:min(len(data), maxHeaderBytes+1)]
		end, res := p.scanBlock(b)
		switch {
		case res == blockDone && end > maxHeaderBytes:
			return end, nil, blockTooBig
		case res == blockDone:
			return end, b[:end], res
		case res != blockMore:
			return p.blk.scan, nil, res
		case len(b) > maxHeaderBytes:
			return len(b), nil, blockTooBig
		}
		if cap(p.buf) < len(b) {
			// The block goes on in a later segment, usually the next:
			// room for twice this part (within what resetBlock keeps)
			// makes one allocation do.
			p.buf = make([]byte, 0, max(len(b), 512, min(2*len(b), maxKeptBuffer)))
		}
		p.buf = append(p.buf, b...)
		return len(b), nil, blockMore
	}
	// Append a line at a time, so that the bytes after the block (a body,
	// up to a whole TSO segment of it) are never copied.
	old := len(p.buf)
	for {
		rest := data[len(p.buf)-old:]
		n := bytes.IndexByte(rest, '\n') + 1
		if n == 0 {
			n = len(rest)
		}
		p.buf = append(p.buf, rest[:min(n, maxHeaderBytes+1-len(p.buf))]...)
		end, res := p.scanBlock(p.buf)
		switch {
		case res == blockDone && end > maxHeaderBytes:
			return end - old, nil, blockTooBig
		case res == blockDone:
			return end - old, p.buf[:end], res
		case res != blockMore:
			return p.blk.scan - old, nil, res
		case len(p.buf) > maxHeaderBytes:
			return len(p.buf) - old, nil, blockTooBig
		case len(p.buf)-old == len(data):
			return len(data), nil, blockMore
		}
	}
}

// scanBlock searches b, the block so far, for the empty line that ends it,
// from where the last search stopped. It checks the start line as soon as
// it is whole (or as soon as its first bytes cannot begin one), and counts
// field lines. It returns the block's length when blockDone; after
// blockBadStart or blockTooBig, p.blk.scan is the length of b consumed.
func (p *HTTPParser) scanBlock(b []byte) (int, blockResult) {
	st := &p.blk
	for {
		i := bytes.IndexByte(b[st.scan:], '\n')
		if i < 0 {
			st.scan = len(b)
			if !st.startDone && !p.startViable(b) {
				return 0, blockBadStart
			}
			return 0, blockMore
		}
		j := st.scan + i // the line is b[st.lineStart:j]
		st.scan = j + 1
		if !st.startDone {
			if !p.startLine(trimCR(b[:j])) {
				return 0, blockBadStart
			}
			st.startDone = true
			st.lineStart = j + 1
			st.startEnd = j
			continue
		}
		if j == st.lineStart || j == st.lineStart+1 && b[st.lineStart] == '\r' {
			return j + 1, blockDone
		}
		st.lineStart = j + 1
		st.lines++
		if st.lines > maxHeaderFields {
			return 0, blockTooBig
		}
		p.ends = append(p.ends, int32(j))
	}
}

// startViable reports whether b, the first bytes of a start line without
// its end, may still become one. The prefix is checked again only when it
// has doubled (short ones always): a start line fed a byte at a time costs
// linear time, and a bad one is still caught by its line end or its limit.
func (p *HTTPParser) startViable(b []byte) bool {
	st := &p.blk
	if len(b) > p.startLimit()+1 { // +1: a CR that may end the line
		return false
	}
	if len(b) > 256 && len(b) < 2*st.checked {
		return true
	}
	st.checked = len(b)
	return p.startPrefix(b)
}

// badStart handles bytes that are no start line where one was expected.
func (p *HTTPParser) badStart(atLine bool) {
	switch {
	case p.hunting:
		// A candidate that was not one: hunt on.
		p.skipped(1)
	case p.tunnelCheck:
		// RFC 9110 §9.3.6, §7.8: the client switched protocols after
		// CONNECT or Upgrade without waiting for the answer.
		p.resetBlock()
		p.state = stDone
		return
	default:
		p.errors++
		p.resynced = true
		p.huntErr = true
	}
	p.startHunt(atLine)
}

// headerDone builds the message from its complete header block, whose
// last byte came in seg, and frames its body.
func (p *HTTPParser) headerDone(block []byte, seg Segment) {
	m := p.newMessage(block, seg)
	p.resetBlock()
	p.msg = m
	p.frameBody(m)
}

// newMessage parses a complete header block whose start line was checked.
// The block is copied into the Message's own buffer, which its strings
// point into: a recycled Message (see msgPool) reuses both its buffer and
// its fields' array, so that parsing it allocates nothing. A new one takes
// two allocations, the Message with room for its fields (see allocMessage)
// and its buffer.
func (p *HTTPParser) newMessage(block []byte, seg Segment) *Message {
	m := p.pool.get(p.blk.lines)
	m.buf = append(m.buf[:0], block...)
	// The buffer is not written again until the Message is released; the
	// Handler contract (see Message) says its strings die with it.
	s := unsafe.String(unsafe.SliceData(m.buf), len(m.buf))
	nl := p.blk.startEnd
	line := strings.TrimSuffix(s[:nl], "\r")
	m.FirstFrame, m.FirstTime = p.firstSeg.Frame, p.firstSeg.Time
	m.firstWire = p.firstWire
	m.setLast(seg)
	m.HeaderBytes = len(block)
	m.Resynced = p.startResync
	m.LostBefore = p.startLoss
	if p.kind == kindRequest {
		// checkRequestLine made sure of exactly two single spaces.
		m.Request = true
		sp1 := strings.IndexByte(line, ' ')
		sp2 := sp1 + 1 + strings.IndexByte(line[sp1+1:], ' ')
		m.Method, m.Target, m.Proto = line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	} else {
		// checkStatusLine made sure of "HTTP/1.x 3DIGIT[ reason]".
		m.Proto = line[:8]
		m.Status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
		if len(line) > 13 {
			m.Reason = line[13:]
		}
	}
	m.Header = p.parseFields(s, nl+1, m.Header)
	return m
}

// parseFields appends the field lines of block from offset from on to h
// (RFC 9112 §5, RFC 9110 §5.5). They end where scanBlock found their line
// ends (p.ends), so the block is not searched a second time; the empty
// line that ends the block is not among them.
//
//	field-line = field-name ":" OWS field-value OWS
//
// A line that is no field line is counted as an error and skipped.
// obs-fold continuation lines (RFC 9112 §5.2) are joined to their field
// with one SP.
func (p *HTTPParser) parseFields(block string, from int, h []HeaderField) []HeaderField {
	folds := false // the previous line was a field a fold may continue
	for _, end := range p.ends {
		line := strings.TrimSuffix(block[from:end], "\r")
		from = int(end) + 1
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 9112 §2.2: whitespace-preceded lines before the first
			// field are consumed without further processing.
			if folds {
				f := &h[len(h)-1]
				if v := trimOWS(line); v != "" && f.Value != "" {
					f.Value += " " + v
				} else if v != "" {
					f.Value = v
				}
			}
			continue
		}
		colon := tokenLen(line)
		if colon == 0 || colon == len(line) || line[colon] != ':' {
			p.errors++
			folds = false
			continue
		}
		h = append(h, HeaderField{Name: line[:colon], Value: trimOWS(line[colon+1:])})
		folds = true
	}
	return h
}

// stepTrailer reads the trailer section after the last chunk (RFC 9112
// §7.1.2) and completes the message; trailer fields are appended to its
// Header.
func (p *HTTPParser) stepTrailer(data []byte, seg Segment) int {
	n, block, res := p.readBlock(data)
	p.msg.setLast(seg)
	switch res {
	case blockDone:
		m := p.msg
		if len(p.ends) > 0 { // not just the empty line
			m.Header = p.parseFields(string(block), 0, m.Header)
		}
		p.resetBlock()
		p.expectStart(m)
		p.emit()
	case blockTooBig:
		p.badFraming(data[n-1] == '\n')
	}
	return n
}

// tokenLen returns the length of the token (RFC 9110 §5.6.2) that s starts
// with: the index of its first byte that is no tchar, or len(s). A field
// line is a token followed by ':', so this finds the colon and checks the
// name in one pass.
func tokenLen(s string) int {
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return i
		}
	}
	return len(s)
}

// trimOWS trims optional whitespace (SP, HTAB: RFC 9110 §5.6.3) from both
// ends of s.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// trimCR drops one trailing CR: lines may end in CRLF or, tolerated, a bare
// LF (RFC 9112 §2.2).
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
