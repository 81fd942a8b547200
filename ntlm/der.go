package ntlm

import (
	"strconv"
	"strings"
)

// This file is a small DER reader and writer for the few SPNEGO and GSS-API
// structures the package needs.
//
// encoding/asn1 is not used: it needs a Go struct for the whole message and
// fails the whole decode on the first surprise, so it cannot read the parts
// of a token that make sense and skip the rest (NegTokenInit2's negHints,
// unknown context tags, a trailing mechListMIC); its error messages do not
// name SPNEGO fields; and it allocates for every element it walks, at lengths
// the input picks, which a hostile token can exploit. The reader below only
// slices the input: each element's length is checked against the bytes left
// before anything is read.

// DER tags used here.
const (
	tagBoolean     = 0x01
	tagBitString   = 0x03
	tagOctetString = 0x04
	tagOID         = 0x06
	tagEnumerated  = 0x0a
	tagSequence    = 0x30
	tagGSSWrapper  = 0x60 // [APPLICATION 0] constructed: InitialContextToken
	tagContext0    = 0xa0
	tagContext1    = 0xa1
	tagContext2    = 0xa2
	tagContext3    = 0xa3
	tagContext4    = 0xa4
)

// derElem is one element read from DER.
type derElem struct {
	tag     byte
	content []byte
}

// readDER reads one TLV from the front of b and returns it with the rest of
// b. Only low tag numbers (single byte) and definite lengths of up to 4 bytes
// are accepted; field names the element for errors.
func readDER(b []byte, field string) (derElem, []byte, *ParseError) {
	if len(b) < 2 {
		return derElem{}, nil, errTrunc(field, "DER element needs 2 bytes, have %d", len(b))
	}
	tag := b[0]
	if tag&0x1f == 0x1f {
		return derElem{}, nil, errMalformed(field, "DER high tag number form (tag 0x%02x) not supported", tag)
	}
	n := uint64(b[1])
	rest := b[2:]
	if n&0x80 != 0 {
		k := int(n & 0x7f)
		if k == 0 {
			return derElem{}, nil, errMalformed(field, "DER indefinite length (tag 0x%02x)", tag)
		}
		if k > 4 {
			return derElem{}, nil, errMalformed(field, "DER length of %d bytes (tag 0x%02x)", k, tag)
		}
		if len(rest) < k {
			return derElem{}, nil, errTrunc(field, "DER length needs %d bytes, have %d", k, len(rest))
		}
		n = 0
		for _, c := range rest[:k] {
			n = n<<8 | uint64(c)
		}
		rest = rest[k:]
	}
	if n > uint64(len(rest)) {
		return derElem{}, nil, errTrunc(field, "DER element (tag 0x%02x) length %d past end of %d remaining bytes", tag, n, len(rest))
	}
	return derElem{tag: tag, content: rest[:n]}, rest[n:], nil
}

// readDERTag reads one TLV and checks its tag.
func readDERTag(b []byte, tag byte, field string) ([]byte, []byte, *ParseError) {
	e, rest, err := readDER(b, field)
	if err != nil {
		return nil, nil, err
	}
	if e.tag != tag {
		return nil, nil, errMalformed(field, "DER tag 0x%02x, want 0x%02x", e.tag, tag)
	}
	return e.content, rest, nil
}

// knownOIDs are the OIDs tokens carry, with their DER content, which
// parseOID answers without building a string.
var knownOIDs = func() (t [6]struct{ der, dotted string }) {
	for i, oid := range [...]string{OIDSPNEGO, OIDNTLMSSP, OIDKerberos5, OIDMSKerberos5, OIDNegoEx, OIDKerberosUser} {
		t[i].der, t[i].dotted = string(encodeOID(oid)), oid
	}
	return t
}()

// parseOID decodes the content of an OBJECT IDENTIFIER into dotted form.
func parseOID(c []byte, field string) (string, *ParseError) {
	if len(c) == 0 {
		return "", errMalformed(field, "empty OID")
	}
	for i := range knownOIDs {
		if string(c) == knownOIDs[i].der {
			return knownOIDs[i].dotted, nil
		}
	}
	var sb strings.Builder
	var v uint64
	first := true
	for i, x := range c {
		if v > 1<<56 {
			return "", errMalformed(field, "OID arc too large")
		}
		v = v<<7 | uint64(x&0x7f)
		if x&0x80 != 0 {
			if i == len(c)-1 {
				return "", errTrunc(field, "OID ends inside an arc")
			}
			continue
		}
		if first {
			a, b := v/40, v%40
			if a > 2 {
				a, b = 2, v-80
			}
			sb.WriteString(strconv.FormatUint(a, 10))
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(b, 10))
			first = false
		} else {
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v, 10))
		}
		v = 0
	}
	return sb.String(), nil
}

// appendDER appends a TLV with a definite DER length.
func appendDER(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xff:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}

// encodeOID returns the DER content of a dotted OID; the OIDs passed are the
// package's own constants, so malformed input is not expected.
func encodeOID(dotted string) []byte {
	parts := strings.Split(dotted, ".")
	arcs := make([]uint64, 0, len(parts))
	for _, p := range parts {
		v, _ := strconv.ParseUint(p, 10, 64)
		arcs = append(arcs, v)
	}
	if len(arcs) < 2 {
		return nil
	}
	out := appendBase128(nil, arcs[0]*40+arcs[1])
	for _, a := range arcs[2:] {
		out = appendBase128(out, a)
	}
	return out
}

func appendBase128(dst []byte, v uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(dst, tmp[i:]...)
}
