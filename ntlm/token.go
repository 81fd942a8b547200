package ntlm

import (
	"bytes"
	"strconv"
)

// Mech is the security mechanism a token carries.
type Mech uint8

// Mechanisms.
const (
	MechNone     Mech = iota // no mechanism token (an empty token, a bare SPNEGO offer or final answer)
	MechNTLM                 // NTLMSSP (OID 1.3.6.1.4.1.311.2.2.10)
	MechKerberos             // Kerberos 5 (OID 1.2.840.113554.1.2.2, or Microsoft's 1.2.840.48018.1.2.2)
	MechNegoEx               // NegoEx (OID 1.3.6.1.4.1.311.2.2.30)
	MechUnknown              // something else
)

var mechNames = [...]string{
	MechNone:     "none",
	MechNTLM:     "NTLM",
	MechKerberos: "Kerberos",
	MechNegoEx:   "NegoEx",
	MechUnknown:  "unknown",
}

// String returns "none", "NTLM", "Kerberos", "NegoEx", "unknown" or
// "UNKNOWN_MECH_<n>".
func (m Mech) String() string {
	if int(m) < len(mechNames) {
		return mechNames[m]
	}
	return "UNKNOWN_MECH_" + strconv.Itoa(int(m))
}

// Mechanism OIDs, dotted.
const (
	OIDSPNEGO       = "1.3.6.1.5.5.2"
	OIDNTLMSSP      = "1.3.6.1.4.1.311.2.2.10"
	OIDKerberos5    = "1.2.840.113554.1.2.2"
	OIDMSKerberos5  = "1.2.840.48018.1.2.2"
	OIDNegoEx       = "1.3.6.1.4.1.311.2.2.30"
	OIDKerberosUser = "1.2.840.113554.1.2.2.3" // KRB5 user-to-user
)

// mechForOID maps a mechanism OID to a Mech.
func mechForOID(oid string) Mech {
	switch oid {
	case OIDNTLMSSP:
		return MechNTLM
	case OIDKerberos5, OIDMSKerberos5, OIDKerberosUser:
		return MechKerberos
	case OIDNegoEx:
		return MechNegoEx
	case "":
		return MechNone
	}
	return MechUnknown
}

// NegState is the negState of a SPNEGO NegTokenResp (RFC 4178 4.2.2).
type NegState int8

// SPNEGO negotiation states. NegStateAbsent means the token has no negState
// (a NegTokenInit, a raw token, or a NegTokenResp without the field).
const (
	NegStateAbsent   NegState = -1
	AcceptCompleted  NegState = 0
	AcceptIncomplete NegState = 1
	Reject           NegState = 2
	RequestMIC       NegState = 3
)

// Prefixed names of the negotiation states, the same values.
const (
	NegStateAcceptCompleted  = AcceptCompleted
	NegStateAcceptIncomplete = AcceptIncomplete
	NegStateReject           = Reject
	NegStateRequestMIC       = RequestMIC
)

var negStateNames = [...]string{
	AcceptCompleted:  "accept-completed",
	AcceptIncomplete: "accept-incomplete",
	Reject:           "reject",
	RequestMIC:       "request-mic",
}

// String returns the RFC 4178 name ("accept-incomplete"), "absent", or
// "UNKNOWN_NEGSTATE_<n>".
func (s NegState) String() string {
	if s == NegStateAbsent {
		return "absent"
	}
	if s >= 0 && int(s) < len(negStateNames) {
		return negStateNames[s]
	}
	return "UNKNOWN_NEGSTATE_" + strconv.Itoa(int(s))
}

// SPNEGOKind says whether and how a token is SPNEGO-wrapped.
type SPNEGOKind uint8

// SPNEGO token kinds.
const (
	NotSPNEGO    SPNEGOKind = iota // raw NTLMSSP or Kerberos token
	NegTokenInit                   // GSS-API InitialContextToken with OID 1.3.6.1.5.5.2 and [0] NegTokenInit
	NegTokenResp                   // [1] NegTokenResp
)

var spnegoKindNames = [...]string{
	NotSPNEGO:    "raw",
	NegTokenInit: "NegTokenInit",
	NegTokenResp: "NegTokenResp",
}

// String returns "raw", "NegTokenInit", "NegTokenResp" or
// "UNKNOWN_SPNEGOKIND_<n>".
func (k SPNEGOKind) String() string {
	if int(k) < len(spnegoKindNames) {
		return spnegoKindNames[k]
	}
	return "UNKNOWN_SPNEGOKIND_" + strconv.Itoa(int(k))
}

// KerberosKind is the Kerberos message a Kerberos token carries (RFC 4120).
type KerberosKind uint8

// Kerberos message kinds.
const (
	KerberosNone  KerberosKind = iota // not a Kerberos token
	KerberosAPReq                     // AP-REQ, [APPLICATION 14] 0x6e, GSS tok_id 01 00
	KerberosAPRep                     // AP-REP, [APPLICATION 15] 0x6f, GSS tok_id 02 00
	KerberosError                     // KRB-ERROR, [APPLICATION 30] 0x7e, GSS tok_id 03 00
	KerberosOther                     // a Kerberos token of another kind
)

var kerberosKindNames = [...]string{
	KerberosNone:  "none",
	KerberosAPReq: "AP-REQ",
	KerberosAPRep: "AP-REP",
	KerberosError: "KRB-ERROR",
	KerberosOther: "other",
}

// String returns "none", "AP-REQ", "AP-REP", "KRB-ERROR", "other" or
// "UNKNOWN_KERBEROSKIND_<n>".
func (k KerberosKind) String() string {
	if int(k) < len(kerberosKindNames) {
		return kerberosKindNames[k]
	}
	return "UNKNOWN_KERBEROSKIND_" + strconv.Itoa(int(k))
}

// Token is what an NTLM, Negotiate or Kerberos HTTP token carries, with any
// SPNEGO wrapping removed.
//
// Mech is decided by the mechanism token itself (NegTokenInit mechToken,
// NegTokenResp responseToken), or by supportedMech when a NegTokenResp has no
// responseToken; never by MechTypes. Windows lists NTLMSSP among its
// MechTypes while sending a Kerberos AP-REQ.
type Token struct {
	SPNEGO        SPNEGOKind
	NegState      NegState
	MechTypes     []string // dotted OIDs offered in a NegTokenInit
	SupportedMech string   // dotted OID in a NegTokenResp, "" if absent
	Mech          Mech
	Kerberos      KerberosKind
	NTLM          Message // decoded NTLMSSP message when Mech == MechNTLM and a message is present

	// MechToken is the mechanism token (mechToken, responseToken, the inner
	// token of a GSS-API wrapper, or the whole raw token); nil when absent.
	MechToken Secret
	// MechListMIC is the SPNEGO mechListMIC; nil when absent.
	MechListMIC Secret
}

// DecodeToken decodes the bytes of an HTTP NTLM, Negotiate or Kerberos token
// (already base64-decoded). What the token is comes from its bytes, not from
// the scheme (the parameter is there so callers pass what they have): raw NTLMSSP under Negotiate (the Windows fallback) and SPNEGO under
// NTLM (seen from proxies) are both accepted. Kerberos and NegoEx tokens are
// recognised and reported, not decoded further.
//
// As with Decode, the returned Token holds what could be read even when the
// error is non-nil; the error is a *ParseError. An empty token gives
// MechNone and no error.
func DecodeToken(scheme Scheme, b []byte) (*Token, error) {
	return decodeToken(dec{}, &Token{}, scheme, b)
}

// decodeToken is DecodeToken into t (zeroed, MechTypes aside).
func decodeToken(x dec, t *Token, _ Scheme, b []byte) (*Token, error) {
	t.NegState = NegStateAbsent
	if len(b) == 0 {
		return t, nil
	}
	switch b[0] {
	case tagGSSWrapper:
		return t, decodeGSS(x, t, b)
	case tagContext0:
		t.SPNEGO = NegTokenInit
		return t, decodeNegTokenInit(x, t, b)
	case tagContext1:
		t.SPNEGO = NegTokenResp
		return t, decodeNegTokenResp(x, t, b)
	}
	return t, decodeMechToken(x, t, b, "")
}

// Kerberos message tags: [APPLICATION n] constructed.
const (
	tagKrbAPReq  = 0x6e
	tagKrbAPRep  = 0x6f
	tagKrbError  = 0x7e
	negoExSig    = "NEGOEXTS"
	gssTokIDSize = 2
)

// decodeMechToken classifies and decodes a mechanism token: NTLMSSP,
// Kerberos (bare or GSS-wrapped), NegoEx. hint is the OID SPNEGO says the
// token belongs to ("" when unknown); it is used only when the bytes do not
// tell.
func decodeMechToken(x dec, t *Token, b []byte, hint string) error {
	t.MechToken = x.secret(b)
	if len(b) == 0 {
		t.Mech = mechForOID(hint)
		return nil
	}
	switch {
	case IsNTLMSSP(b):
		t.Mech = MechNTLM
		m, err := decode(x, b)
		t.NTLM = m
		return err
	case len(b) > 0 && isKerberosTag(b[0]):
		t.Mech = MechKerberos
		t.Kerberos = kerberosKind(b[0], nil)
		return nil
	case bytes.HasPrefix(b, []byte(negoExSig)):
		t.Mech = MechNegoEx
		return nil
	case len(b) > 0 && b[0] == tagGSSWrapper:
		return decodeGSS(x, t, b)
	}
	t.Mech = mechForOID(hint)
	if t.Mech == MechNone {
		t.Mech = MechUnknown
	}
	if hint == "" {
		return &ParseError{Field: "token", Msg: "neither NTLMSSP, SPNEGO nor Kerberos (first byte 0x" + strconv.FormatUint(uint64(b[0]), 16) + ")", Err: ErrUnknownType}
	}
	return nil
}

func isKerberosTag(c byte) bool {
	return c == tagKrbAPReq || c == tagKrbAPRep || c == tagKrbError
}

// kerberosKind classifies a Kerberos message by its tag, else by its GSS
// tok_id.
func kerberosKind(tag byte, tokID []byte) KerberosKind {
	switch tag {
	case tagKrbAPReq:
		return KerberosAPReq
	case tagKrbAPRep:
		return KerberosAPRep
	case tagKrbError:
		return KerberosError
	}
	if len(tokID) == gssTokIDSize && tokID[1] == 0 {
		switch tokID[0] {
		case 1:
			return KerberosAPReq
		case 2:
			return KerberosAPRep
		case 3:
			return KerberosError
		}
	}
	return KerberosOther
}
