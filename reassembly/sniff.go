package reassembly

import "bytes"

// firstLine returns b's first line without its line ending, and whether the
// line ended within b.
func firstLine(b []byte) (line []byte, complete bool) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return b, false
	}
	return bytes.TrimSuffix(b[:nl], []byte("\r")), true
}

// peekStatusLine reports whether b starts with an HTTP/1.x status line: it
// tells, without a SYN, which side of a connection is the server.
func peekStatusLine(b []byte) bool {
	line, complete := firstLine(b)
	return len(line) >= len("HTTP/1.1 200") && checkStatusLine(line, complete) != lineBad
}

// peekRequestLine reports whether b starts with an HTTP/1.x request line:
// its sender is the client.
func peekRequestLine(b []byte) bool {
	line, complete := firstLine(b)
	return complete && checkRequestLine(line, true) == lineOK
}
