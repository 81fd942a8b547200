package reassembly

import "bytes"

// peekStatusLine reports whether b starts like an HTTP/1.x status line
// ("HTTP/1.1 401"). It decides, without a SYN, which side is the server.
func peekStatusLine(b []byte) bool {
	return len(b) >= 12 && bytes.HasPrefix(b, []byte("HTTP/1.")) && b[8] == ' ' &&
		isASCIIDigitByte(b[9]) && isASCIIDigitByte(b[10]) && isASCIIDigitByte(b[11])
}

// peekRequestLine reports whether b starts like an HTTP/1.x request line:
// a method token, a space, and " HTTP/1." before the end of the first line.
func peekRequestLine(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || sp > 32 {
		return false
	}
	for _, c := range b[:sp] {
		if !(c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	line := b
	if nl := bytes.IndexByte(b, '\n'); nl >= 0 {
		line = b[:nl]
	}
	return bytes.Contains(line, []byte(" HTTP/1."))
}

func isASCIIDigitByte(c byte) bool { return c >= '0' && c <= '9' }
