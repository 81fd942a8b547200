package reassembly

import (
	"bytes"
	"strings"
)

// bodyFraming is how a message's body is delimited.
type bodyFraming uint8

const (
	frameNone    bodyFraming = iota // no body
	frameLength                     // Content-Length bytes
	frameChunked                    // chunked transfer coding
	frameClose                      // until the connection closes
	frameTunnel                     // no body, and the direction stops here
	frameBad                        // cannot be determined
)

// frameBody decides how m's body is delimited and sets the parser up to
// read it; a bodiless message is emitted at once.
func (p *HTTPParser) frameBody(m *Message) {
	f, n := p.framing(m)
	switch f {
	case frameNone:
		p.expectStart(m)
		p.emit()
	case frameLength:
		p.remaining = n
		p.state = stBodyLength
	case frameChunked:
		m.Chunked = true
		p.state = stChunkSize
	case frameClose:
		m.BodyToClose = true
		p.state = stBodyClose
	case frameTunnel:
		p.state = stDone
		p.emit()
	case frameBad:
		p.badFraming(true)
	}
}

// framing applies RFC 9112 §6.3 to m, in its order: HEAD, 1xx, 204 and 304
// responses have no body; a 2xx to CONNECT (and a 101) starts a tunnel;
// Transfer-Encoding overrides Content-Length; a response with neither runs
// to close, a request with neither has no body. It returns the body length
// for frameLength.
func (p *HTTPParser) framing(m *Message) (bodyFraming, int64) {
	if !m.Request {
		if m.Status < 200 {
			if m.Status == 101 {
				// RFC 9110 §15.2.2: the connection switches protocols
				// after the empty line.
				return frameTunnel, 0
			}
			// Interim responses do not answer the request: the next
			// final one does, so they take no request index.
			return frameNone, 0
		}
		method, known := p.requestMethod(m)
		switch {
		case known && method == "HEAD":
			return frameNone, 0
		case known && method == "CONNECT" && m.Status < 300:
			return frameTunnel, 0
		case m.Status == 204 || m.Status == 304:
			return frameNone, 0
		}
	}
	if te, chunked := transferCoding(m); te {
		switch {
		case chunked:
			return frameChunked, 0
		case m.Request:
			// §6.3 rule 4: a request whose final coding is not
			// chunked cannot be framed.
			return frameBad, 0
		}
		return frameClose, 0
	}
	n, present, ok := contentLength(m)
	switch {
	case !ok:
		return frameBad, 0
	case present && n > 0:
		return frameLength, n
	case present || m.Request:
		return frameNone, 0
	}
	return frameClose, 0
}

// requestMethod returns the method of the request the next final response
// (resp) answers, and counts that response.
func (p *HTTPParser) requestMethod(resp *Message) (string, bool) {
	idx := p.respIdx
	p.respIdx++
	if p.cb.RequestMethod == nil {
		return "", false
	}
	return p.cb.RequestMethod(idx, resp)
}

// transferCoding reports whether m has a Transfer-Encoding field, and
// whether chunked is its final coding (RFC 9112 §6.1). Codings are a
// comma-separated list, possibly over several fields.
func transferCoding(m *Message) (present, chunked bool) {
	for _, h := range m.Header {
		if !fieldIs(h.Name, "Transfer-Encoding") {
			continue
		}
		present = true
		for v := range strings.SplitSeq(h.Value, ",") {
			if v = trimOWS(v); v != "" {
				chunked = strings.EqualFold(v, "chunked")
			}
		}
	}
	return present, chunked
}

// contentLength returns m's Content-Length (RFC 9112 §6.2, RFC 9110
// §8.6): 1*DIGIT, possibly repeated in a list or in several fields, which
// must then all agree. ok is false for an invalid or conflicting value.
func contentLength(m *Message) (n int64, present, ok bool) {
	n = -1
	for _, h := range m.Header {
		if !fieldIs(h.Name, "Content-Length") {
			continue
		}
		for v := range strings.SplitSeq(h.Value, ",") {
			d, ok := parseDecimal(trimOWS(v))
			if !ok || n >= 0 && d != n {
				return 0, true, false
			}
			n = d
		}
	}
	if n < 0 {
		return 0, false, true
	}
	return n, true, true
}

// fieldIs reports whether the field name parsed off the wire is the
// (ASCII) name want, case-insensitively. Parsed names are tokens, so a
// name of another length cannot match: checking the length first skips
// most fields at the cost of a compare.
func fieldIs(name, want string) bool {
	return len(name) == len(want) && strings.EqualFold(name, want)
}

// parseDecimal parses 1*DIGIT up to 1<<62 (lengths beyond are no real
// body, and the bound keeps the sums of counters from overflowing).
func parseDecimal(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n <= 1<<62
}

// badFraming handles a message whose body cannot be framed (invalid
// Content-Length, bad chunk, oversized trailers): it counts an error,
// emits the message Incomplete (its header fields are still evidence, and
// it keeps requests and responses paired), and resynchronises: the next
// message is Resynced if bytes had to be skipped to find it.
func (p *HTTPParser) badFraming(atLine bool) {
	p.msg.Incomplete = true
	p.errors++
	p.huntErr = true
	p.startHunt(atLine)
	p.emit()
}

// stepBodyLength counts Content-Length body bytes.
func (p *HTTPParser) stepBodyLength(data []byte, seg Segment) int {
	n := int(min(int64(len(data)), p.remaining))
	p.remaining -= int64(n)
	p.msg.BodyBytes += int64(n)
	p.msg.setLast(seg)
	if p.remaining == 0 {
		p.expectStart(p.msg)
		p.emit()
	}
	return n
}

// stepChunkSize reads a chunk-size line (RFC 9112 §7.1):
//
//	chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	last-chunk = 1*("0") [ chunk-ext ] CRLF
//
// Extensions (§7.1.1) are ignored.
func (p *HTTPParser) stepChunkSize(data []byte, seg Segment) int {
	p.msg.setLast(seg)
	line, n, res := p.readLine(data, maxChunkLine)
	switch res {
	case blockMore:
		return n
	case blockTooBig:
		p.badFraming(data[n-1] == '\n')
		return n
	}
	size, ok := parseChunkSize(line)
	p.resetBlock()
	switch {
	case !ok:
		p.badFraming(true)
	case size == 0:
		p.state = stTrailer
		p.blk = blockScan{startDone: true, lines: len(p.msg.Header)}
	default:
		p.remaining = size
		p.state = stChunkData
	}
	return n
}

// stepChunkData counts chunk-data bytes.
func (p *HTTPParser) stepChunkData(data []byte, seg Segment) int {
	n := int(min(int64(len(data)), p.remaining))
	p.remaining -= int64(n)
	p.msg.BodyBytes += int64(n)
	p.msg.setLast(seg)
	if p.remaining == 0 {
		p.state = stChunkEnd
		p.chunkSawCR = false
	}
	return n
}

// stepChunkEnd reads the CRLF (or bare LF) after chunk data.
func (p *HTTPParser) stepChunkEnd(data []byte, seg Segment) int {
	p.msg.setLast(seg)
	for i, c := range data {
		switch {
		case c == '\n':
			p.state = stChunkSize
			return i + 1
		case c == '\r' && !p.chunkSawCR:
			p.chunkSawCR = true
		default:
			// The chunk size lied, or this is not the stream it seemed.
			p.badFraming(false)
			return i
		}
	}
	return len(data)
}

// readLine reads a line of at most limit bytes into p.buf, or in place
// when it lies whole in data. It returns the line without its LF (valid
// until the next call), the bytes of data consumed, and blockDone,
// blockMore or blockTooBig.
func (p *HTTPParser) readLine(data []byte, limit int) ([]byte, int, blockResult) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		if len(p.buf)+len(data) > limit {
			return nil, len(data), blockTooBig
		}
		p.buf = append(p.buf, data...)
		return nil, len(data), blockMore
	}
	if len(p.buf)+i > limit {
		return nil, i + 1, blockTooBig
	}
	if len(p.buf) == 0 {
		return data[:i], i + 1, blockDone
	}
	p.buf = append(p.buf, data[:i]...)
	return p.buf, i + 1, blockDone
}

// parseChunkSize parses a chunk-size line without its LF:
//
//	chunk-size [ BWS ";" chunk-ext ] [ CR ]
//
// chunk-size = 1*HEXDIG, at most 15 digits (a larger chunk is no real
// chunk, and the bound keeps the size from overflowing).
func parseChunkSize(line []byte) (int64, bool) {
	line = trimCR(line)
	var n int64
	i := 0
	for ; i < len(line); i++ {
		d := unhex(line[i])
		if d < 0 {
			break
		}
		if i == 15 {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	if i == 0 {
		return 0, false
	}
	rest := line[i:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] != ';' {
		return 0, false
	}
	return n, true
}

// unhex returns the value of hex digit c, or -1.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
