package reassembly

import "bytes"

// h2Preface is the HTTP/2 client connection preface (RFC 9113 §3.4), sent
// first by a client that knows the server speaks HTTP/2.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// sniffData looks at the first bytes of the direction for a TLS record or
// the HTTP/2 preface. It reports whether it classified the direction, which
// is then done; otherwise the bytes still go through the HTTP/1 hunt (they
// cannot hold a start line if they turn out to be TLS or the preface).
func (p *HTTPParser) sniffData(data []byte) bool {
	p.sniffN += uint8(copy(p.sniff[p.sniffN:], data))
	proto, more := sniffProto(p.sniff[:p.sniffN])
	if proto != ProtoUnknown {
		p.proto = proto
		p.state = stDone
		return true
	}
	p.sniffing = more
	return false
}

// sniffProto classifies the first bytes of a stream as ProtoTLS, ProtoHTTP2
// or neither (ProtoUnknown); more says that more bytes could still decide.
func sniffProto(b []byte) (proto Protocol, more bool) {
	if len(b) == 0 {
		return ProtoUnknown, true
	}
	// RFC 8446 §5.1: a TLSPlaintext record starts with its ContentType
	// (20 change_cipher_spec … 23 application_data) and a legacy version
	// 0x03 0x00 (SSL 3.0) … 0x03 0x04.
	if b[0] >= 0x14 && b[0] <= 0x17 {
		if len(b) < 3 {
			return ProtoUnknown, true
		}
		if b[1] == 0x03 && b[2] <= 0x04 {
			return ProtoTLS, false
		}
		return ProtoUnknown, false
	}
	if len(b) <= len(h2Preface) && string(b) == h2Preface[:len(b)] {
		if len(b) == len(h2Preface) {
			return ProtoHTTP2, false
		}
		return ProtoUnknown, true
	}
	return ProtoUnknown, false
}

// stepHunt skips bytes up to the next line start that may begin a start
// line, then hands over to stHeader, which checks the line and comes back
// here if it is not one. Skipped bytes are scanned, never buffered.
//
// While detecting, a start line must begin within httpDetectWindow bytes of
// the direction, or the direction is ProtoOther.
func (p *HTTPParser) stepHunt(data []byte) int {
	pos, skip := 0, 0
	for pos < len(data) {
		if p.atLine {
			c := data[pos]
			if c == '\r' || c == '\n' {
				// Empty lines between messages are no loss
				// (RFC 9112 §2.2).
				pos++
				continue
			}
			if tchar[c] {
				if p.detecting && p.offset-p.streamStart+int64(pos) >= httpDetectWindow {
					break
				}
				p.skipped(skip)
				p.state = stHeader
				return pos
			}
			p.atLine = false
		}
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			skip += len(data) - pos
			pos = len(data)
			break
		}
		skip += i + 1
		pos += i + 1
		p.atLine = true
	}
	p.skipped(skip)
	if p.detecting && p.offset-p.streamStart+int64(pos) >= httpDetectWindow {
		p.proto = ProtoOther
		p.state = stDone
	}
	return pos
}

// lineVerdict says whether bytes are (or may become) a start line.
type lineVerdict uint8

const (
	lineBad  lineVerdict = iota // cannot be a start line
	lineMore                    // a prefix of one: more bytes will tell
	lineOK                      // a complete, valid start line
)

// checkStart checks b as a start line of the kind the parser accepts: the
// whole line without its line ending when complete, else the bytes of it so
// far. It returns the kind of line b is or may become.
func (p *HTTPParser) checkStart(b []byte, complete bool) (msgKind, lineVerdict) {
	if p.kind != kindResponse {
		if v := checkRequestLine(b, complete); v != lineBad {
			return kindRequest, v
		}
	}
	if p.kind != kindRequest {
		if v := checkStatusLine(b, complete); v != lineBad {
			return kindResponse, v
		}
	}
	return kindAny, lineBad
}

// startLimit is the longest start line the parser accepts now.
func (p *HTTPParser) startLimit() int {
	if p.detecting {
		return httpDetectWindow
	}
	return maxStartLine
}

// startPrefix reports whether b, the first bytes of a line without its
// end, may still become a start line.
func (p *HTTPParser) startPrefix(b []byte) bool {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		// A CR may only end the line.
		if n-1 > p.startLimit() {
			return false
		}
		_, v := p.checkStart(b[:n-1], true)
		return v == lineOK
	}
	if len(b) > p.startLimit() {
		return false
	}
	_, v := p.checkStart(b, false)
	return v != lineBad
}

// startLine checks line (without its line ending) as a complete start
// line. A valid one ends a hunt: the direction is HTTP/1 and the parser
// locks to the line's kind.
func (p *HTTPParser) startLine(line []byte) bool {
	if len(line) > p.startLimit() {
		return false
	}
	kind, v := p.checkStart(line, true)
	if v != lineOK {
		return false
	}
	p.kind = kind
	p.proto = ProtoHTTP1
	p.detecting = false
	p.sniffing = false
	p.hunting = false
	p.huntErr = false
	p.tunnelCheck = false
	p.startResync = p.resynced
	p.resynced = false
	p.startLoss = p.lossBefore
	p.lossBefore = false
	return true
}

// checkRequestLine checks b as a request line (RFC 9112 §3):
//
//	request-line = method SP request-target SP HTTP-version
//
// method is a token; request-target is checked loosely (any visible byte,
// obs-text included: captures hold what clients really send); the version
// must be HTTP/1.x. complete says b is the whole line; otherwise running out
// of bytes means lineMore.
func checkRequestLine(b []byte, complete bool) lineVerdict {
	short := lineMore
	if complete {
		short = lineBad
	}
	i := 0
	for i < len(b) && tchar[b[i]] {
		i++
	}
	if i > maxMethodLen {
		return lineBad
	}
	if i == len(b) {
		return short
	}
	if i == 0 || b[i] != ' ' {
		return lineBad
	}
	i++
	t := i
	for i < len(b) && b[i] > ' ' && b[i] != 0x7f {
		i++
	}
	if i == len(b) {
		return short
	}
	if i == t || b[i] != ' ' {
		return lineBad
	}
	v := checkVersion(b[i+1:], short)
	if v == lineOK && len(b) > i+1+len("HTTP/1.x") {
		return lineBad
	}
	if v == lineOK && !complete {
		return lineMore
	}
	return v
}

// checkStatusLine checks b as a status line (RFC 9112 §4):
//
//	status-line = HTTP-version SP status-code SP [ reason-phrase ]
//
// The SP before an empty reason is optional here, as in most clients.
func checkStatusLine(b []byte, complete bool) lineVerdict {
	short := lineMore
	if complete {
		short = lineBad
	}
	if v := checkVersion(b, short); v != lineOK {
		return v
	}
	const code = len("HTTP/1.x ")
	if len(b) == code-1 {
		return short
	}
	if b[code-1] != ' ' {
		return lineBad
	}
	for i := code; i < code+3; i++ {
		if i == len(b) {
			return short
		}
		if b[i] < '0' || b[i] > '9' || i == code && b[i] == '0' {
			return lineBad
		}
	}
	if len(b) > code+3 {
		if b[code+3] != ' ' {
			return lineBad
		}
		for _, c := range b[code+4:] {
			// reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
			if c < ' ' && c != '\t' || c == 0x7f {
				return lineBad
			}
		}
	}
	if !complete {
		return lineMore
	}
	return lineOK
}

// checkVersion checks that b starts with HTTP/1.x (RFC 9112 §2.3); short
// is the verdict when b ends first.
func checkVersion(b []byte, short lineVerdict) lineVerdict {
	const prefix = "HTTP/1."
	n := min(len(b), len(prefix))
	if string(b[:n]) != prefix[:n] {
		return lineBad
	}
	if len(b) <= len(prefix) {
		return short
	}
	if b[len(prefix)] < '0' || b[len(prefix)] > '9' {
		return lineBad
	}
	return lineOK
}

// tchar marks the token characters of RFC 9110 §5.6.2:
//
//	tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//	        "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
