package ntlm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Signature opens every NTLMSSP message.
const Signature = "NTLMSSP\x00"

// MessageType is the MessageType field of an NTLMSSP message header.
type MessageType uint32

// NTLMSSP message types (MS-NLMP 2.2.1).
const (
	TypeNegotiate    MessageType = 1 // NEGOTIATE_MESSAGE, client to server
	TypeChallenge    MessageType = 2 // CHALLENGE_MESSAGE, server to client
	TypeAuthenticate MessageType = 3 // AUTHENTICATE_MESSAGE, client to server
)

var messageTypeNames = map[MessageType]string{
	TypeNegotiate:    "NEGOTIATE",
	TypeChallenge:    "CHALLENGE",
	TypeAuthenticate: "AUTHENTICATE",
}

// String returns "NEGOTIATE", "CHALLENGE", "AUTHENTICATE" or
// "UNKNOWN_MESSAGETYPE_<n>".
func (t MessageType) String() string {
	if s, ok := messageTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("UNKNOWN_MESSAGETYPE_%d", uint32(t))
}

// Message is a decoded NTLMSSP message: *Negotiate, *Challenge or
// *Authenticate.
type Message interface {
	// Type returns the message type.
	Type() MessageType
}

// headerLen is the size of Signature plus MessageType.
const headerLen = 12

// Decode decodes one NTLMSSP message (MS-NLMP 2.2.1) and returns a
// *Negotiate, *Challenge or *Authenticate.
//
// Decode never panics and never allocates more than a small multiple of
// len(b). Every security buffer is checked against len(b) with 64-bit
// arithmetic before it is sliced.
//
// On error the returned error is a *ParseError naming the first bad field.
// When the fixed header could be read, Decode still returns the message
// along with the error, with every field it could read filled in: a security
// buffer that reaches past the end of b is clipped to the bytes present (none
// when it starts past the end). Wireshark stops at the first such buffer; a
// diagnostic tool is better served by the user name of a message whose domain
// buffer is broken, so the rest is decoded, and the error says what was
// wrong. When the signature, the type or the fixed header is bad, the message
// is nil.
func Decode(b []byte) (Message, error) {
	return decode(dec{}, b)
}

// decode is Decode with the memory x gives.
func decode(x dec, b []byte) (Message, error) {
	if err := checkHeader(b); err != nil {
		return nil, err
	}
	switch t := MessageType(binary.LittleEndian.Uint32(b[8:12])); t {
	case TypeNegotiate:
		m, err := parseNegotiate(x, b)
		if m == nil {
			return nil, err
		}
		return m, err
	case TypeChallenge:
		m, err := parseChallenge(x, b)
		if m == nil {
			return nil, err
		}
		return m, err
	case TypeAuthenticate:
		m, err := parseAuthenticate(x, b)
		if m == nil {
			return nil, err
		}
		return m, err
	default:
		return nil, &ParseError{Field: "MessageType", Msg: fmt.Sprintf("unknown message type %d", uint32(t)), Err: ErrUnknownType}
	}
}

// IsNTLMSSP reports whether b starts with the NTLMSSP signature.
func IsNTLMSSP(b []byte) bool { return bytes.HasPrefix(b, []byte(Signature)) }

// checkHeader checks the signature and that the message type is present.
func checkHeader(b []byte) *ParseError {
	if len(b) < len(Signature) {
		if bytes.HasPrefix([]byte(Signature), b) {
			return errTrunc("Signature", "message is %d bytes, shorter than the signature", len(b))
		}
		return &ParseError{Field: "Signature", Msg: "not an NTLMSSP message", Err: ErrBadSignature}
	}
	if !IsNTLMSSP(b) {
		return &ParseError{Field: "Signature", Msg: "not an NTLMSSP message", Err: ErrBadSignature}
	}
	if len(b) < headerLen {
		return errTrunc("MessageType", "message is %d bytes, need %d", len(b), headerLen)
	}
	return nil
}

// secBuf is a security buffer header (MS-NLMP 2.2.2.x "...Fields"):
//
//	offset  size  field
//	0       2     Len
//	2       2     MaxLen
//	4       4     BufferOffset (from the start of the message)
type secBuf struct {
	Len, MaxLen uint16
	Offset      uint32
}

const secBufLen = 8

// readSecBuf reads the security buffer header at b[at:at+8]; the caller has
// checked the length.
func readSecBuf(b []byte, at int) secBuf {
	return secBuf{
		Len:    binary.LittleEndian.Uint16(b[at:]),
		MaxLen: binary.LittleEndian.Uint16(b[at+2:]),
		Offset: binary.LittleEndian.Uint32(b[at+4:]),
	}
}

// headerEnd returns where the payload of a message starts: the smallest
// offset of a non-empty security buffer, or len(b) when every buffer is empty.
// Optional header fields (Version, MIC, the CHALLENGE TargetInfoFields) are
// present only when they end at or before this point; this is how Wireshark
// tells old messages without a Version from new ones. Empty buffers are left
// out because senders put anything in their offset (0, or the end of the
// header).
func headerEnd(n int, bufs ...secBuf) int {
	end := uint64(n)
	for _, sb := range bufs {
		if sb.Len > 0 && uint64(sb.Offset) < end {
			end = uint64(sb.Offset)
		}
	}
	return int(end)
}

// payload returns the bytes of buffer sb of message b, named field for errors.
// A buffer that reaches past the end of b is clipped to the bytes present and
// an error is recorded.
func payload(b []byte, field string, sb secBuf, errs *errList) []byte {
	if sb.Len == 0 {
		return nil
	}
	end := uint64(sb.Offset) + uint64(sb.Len)
	if end <= uint64(len(b)) {
		return b[sb.Offset:end]
	}
	errs.add(errTrunc(field, "offset %d + length %d past end of %d-byte message", sb.Offset, sb.Len, len(b)))
	if uint64(sb.Offset) >= uint64(len(b)) {
		return nil
	}
	return b[sb.Offset:]
}

// decodeString decodes a string buffer: UTF-16LE when unicode is set, else
// the OEM bytes as they are (the code page is not on the wire). An odd-length
// UTF-16 string records an error naming field and decodes all but the last
// byte.
func decodeString(p []byte, unicode bool, field string, errs *errList) string {
	if !unicode {
		return string(p)
	}
	if len(p)%2 != 0 {
		errs.add(errMalformed(field, "odd length %d for a UTF-16 string", len(p)))
		p = p[:len(p)-1]
	}
	return decodeUTF16(p)
}

// decodeUTF16 decodes UTF-16LE; unpaired surrogates become U+FFFD (as
// utf16.Decode does). The UTF-8 is built in a buffer on the stack for the
// short strings NTLM carries, so that the string is the one allocation.
func decodeUTF16(p []byte) string {
	var stack [128]byte
	out := stack[:0]
	n := len(p) / 2
	for i := 0; i < n; i++ {
		r := rune(binary.LittleEndian.Uint16(p[2*i:]))
		switch {
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
			continue
		case utf16.IsSurrogate(r):
			r2 := utf8.RuneError
			if i+1 < n {
				r2 = rune(binary.LittleEndian.Uint16(p[2*i+2:]))
			}
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				r = d
				i++
			} else {
				r = utf8.RuneError
			}
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// encodeUTF16 encodes s as UTF-16LE.
func encodeUTF16(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(out[2*i:], c)
	}
	return out
}

// encodeString encodes s as UTF-16LE when unicode is set, else as its bytes.
func encodeString(s string, unicode bool) []byte {
	if unicode {
		return encodeUTF16(s)
	}
	return []byte(s)
}
