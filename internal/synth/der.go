package synth

import (
	"strconv"
	"strings"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// Just enough DER to write the Kerberos tokens of the Kerberos scenario;
// the ntlm package's encoder is unexported and speaks only NTLMSSP.

const (
	derInteger     = 0x02
	derBitString   = 0x03
	derOctetString = 0x04
	derOID         = 0x06
	derEnumerated  = 0x0a
	derGenString   = 0x1b
	derSequence    = 0x30
	derGSS         = 0x60 // [APPLICATION 0]: GSS-API InitialContextToken
	derTicket      = 0x61 // [APPLICATION 1]: Kerberos Ticket
	derAPReq       = 0x6e // [APPLICATION 14]: KRB_AP_REQ
	derAPRep       = 0x6f // [APPLICATION 15]: KRB_AP_REP
)

// ctx returns the tag of context-specific constructed element [n].
func ctx(n int) byte { return 0xa0 | byte(n) }

// der appends one element with a definite length.
func der(dst []byte, tag byte, content ...[]byte) []byte {
	n := 0
	for _, c := range content {
		n += len(c)
	}
	dst = append(dst, tag)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xff:
		dst = append(dst, 0x81, byte(n))
	default:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	}
	for _, c := range content {
		dst = append(dst, c...)
	}
	return dst
}

// oid returns a dotted OID as a DER element (the OIDs are constants here).
func oid(dotted string) []byte {
	var arcs []uint64
	for _, p := range strings.Split(dotted, ".") {
		v, _ := strconv.ParseUint(p, 10, 64)
		arcs = append(arcs, v)
	}
	body := base128(nil, arcs[0]*40+arcs[1])
	for _, a := range arcs[2:] {
		body = base128(body, a)
	}
	return der(nil, derOID, body)
}

func base128(dst []byte, v uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(dst, tmp[i:]...)
}

func derInt(v int) []byte { return der(nil, derInteger, []byte{byte(v)}) }

func derStr(s string) []byte { return der(nil, derGenString, []byte(s)) }

// kerberosAPReq returns a Negotiate token as Windows sends it when it can
// use Kerberos: a SPNEGO NegTokenInit listing MS-KRB5, KRB5, NegoEx and
// NTLMSSP, whose mechToken is a GSS-wrapped AP-REQ for HTTP/host. The
// ticket and authenticator ciphertexts are filler (nobody decrypts them).
// opaqueFrom and opaqueTo say where the authenticator's ciphertext lies,
// for per-use patching.
func kerberosAPReq(realm, host string, filler []byte) (tok []byte, opaqueFrom, opaqueTo int) {
	// PrincipalName: name-type NT-SRV-INST, name-string HTTP/host.
	sname := der(nil, derSequence, der(nil, ctx(0), derInt(2)),
		der(nil, ctx(1), der(nil, derSequence, derStr("HTTP"), derStr(host))))
	encPart := func(n int) []byte {
		return der(nil, derSequence,
			der(nil, ctx(0), derInt(18)), // aes256-cts-hmac-sha1-96
			der(nil, ctx(1), derInt(3)),
			der(nil, ctx(2), der(nil, derOctetString, filler[:n])))
	}
	ticket := der(nil, derTicket, der(nil, derSequence,
		der(nil, ctx(0), derInt(5)),
		der(nil, ctx(1), derStr(realm)),
		der(nil, ctx(2), sname),
		der(nil, ctx(3), encPart(1100))))
	auth := encPart(340)
	apReq := der(nil, derAPReq, der(nil, derSequence,
		der(nil, ctx(0), derInt(5)),
		der(nil, ctx(1), derInt(14)),
		der(nil, ctx(2), der(nil, derBitString, []byte{0, 0x20, 0, 0, 0})), // mutual-required
		der(nil, ctx(3), ticket),
		der(nil, ctx(4), auth)))
	gss := der(nil, derGSS, oid(ntlm.OIDKerberos5), []byte{1, 0}, apReq)
	mechTypes := der(nil, derSequence, oid(ntlm.OIDMSKerberos5), oid(ntlm.OIDKerberos5), oid(ntlm.OIDNegoEx), oid(ntlm.OIDNTLMSSP))
	init := der(nil, ctx(0), der(nil, derSequence,
		der(nil, ctx(0), mechTypes),
		der(nil, ctx(2), der(nil, derOctetString, gss))))
	tok = der(nil, derGSS, oid(ntlm.OIDSPNEGO), init)
	// The authenticator's ciphertext ends the token.
	return tok, len(tok) - 340, len(tok)
}

// kerberosAPRep returns the server's final Negotiate answer: a SPNEGO
// NegTokenResp, accept-completed, supportedMech MS-KRB5, carrying a
// GSS-wrapped AP-REP.
func kerberosAPRep(filler []byte) []byte {
	apRep := der(nil, derAPRep, der(nil, derSequence,
		der(nil, ctx(0), derInt(5)),
		der(nil, ctx(1), derInt(15)),
		der(nil, ctx(2), der(nil, derSequence,
			der(nil, ctx(0), derInt(18)),
			der(nil, ctx(2), der(nil, derOctetString, filler[:100]))))))
	gss := der(nil, derGSS, oid(ntlm.OIDKerberos5), []byte{2, 0}, apRep)
	return der(nil, ctx(1), der(nil, derSequence,
		der(nil, ctx(0), der(nil, derEnumerated, []byte{0})),
		der(nil, ctx(1), oid(ntlm.OIDMSKerberos5)),
		der(nil, ctx(2), der(nil, derOctetString, gss))))
}
