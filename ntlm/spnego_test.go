package ntlm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Inline SPNEGO tokens from jborean93/pyspnego (MIT), also in
// NTLM-VECTORS.md, so these tests run without ../shared.
const (
	hexNegTokenInitNTLM = "604006062b0601050502a0363034a00e300c060a2b06010401823702020aa22204204e544c4d5353500001000000378208e000000000000000000000000000000000"
	hexAcceptComplete   = "a11b3019a0030a0100a3120410010000002a5e5500123f381800000000"
	hexRequestMIC       = "a1153013a0030a0103a10c060a2b06010401823702020a"
)

// TestSPNEGOVectors checks negState, supportedMech, mechTypes and
// mechListMIC of the SPNEGO vectors against the tshark sequence decode (the
// row of the 4-message exchange each token is).
func TestSPNEGOVectors(t *testing.T) {
	rows := map[string]int{
		"SPNEGO-NegTokenInit-NTLM":            1,
		"SPNEGO-NegTokenResp-CHALLENGE":       2,
		"SPNEGO-NegTokenResp-AUTHENTICATE":    3,
		"SPNEGO-NegTokenResp-accept-complete": 4,
		"SPNEGO-request-mic-fallback":         2,
	}
	wantMech := map[string]Mech{
		"SPNEGO-NegTokenInit-NTLM":            MechNTLM,
		"SPNEGO-NegTokenResp-CHALLENGE":       MechNTLM,
		"SPNEGO-NegTokenResp-AUTHENTICATE":    MechNTLM,
		"SPNEGO-NegTokenResp-accept-complete": MechNone, // no responseToken, no supportedMech
		"SPNEGO-request-mic-fallback":         MechNTLM, // supportedMech only
	}
	n := 0
	for _, v := range loadVectors(t) {
		row, ok := rows[v.ID]
		if !ok {
			continue
		}
		n++
		t.Run(v.ID, func(t *testing.T) {
			r := v.Seq[row]
			if r == nil {
				t.Fatalf("no tshark sequence row %d", row)
			}
			tok, err := DecodeToken(SchemeNegotiate, v.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			wantKind := NegTokenResp
			if row == 1 {
				wantKind = NegTokenInit
			}
			if tok.SPNEGO != wantKind {
				t.Errorf("SPNEGO = %v, want %v", tok.SPNEGO, wantKind)
			}
			gotState := ""
			if tok.NegState != NegStateAbsent {
				gotState = fmt.Sprint(int(tok.NegState))
			}
			eq(t, "negResult", gotState, r["negResult"])
			eq(t, "supportedMech", tok.SupportedMech, r["supportedMech"])
			if want, ok := r["MechType"]; ok {
				if len(tok.MechTypes) != 1 || tok.MechTypes[0] != want {
					t.Errorf("MechTypes = %v, want [%s]", tok.MechTypes, want)
				}
			}
			eq(t, "mechListMIC", hex.EncodeToString(tok.MechListMIC), r["mechListMIC"])
			if tok.Mech != wantMech[v.ID] {
				t.Errorf("Mech = %v, want %v", tok.Mech, wantMech[v.ID])
			}
			if want := r["messagetype"]; want != "" {
				if tok.NTLM == nil || fmt.Sprintf("0x%08x", uint32(tok.NTLM.Type())) != want {
					t.Errorf("NTLM = %v, want type %s", tok.NTLM, want)
				}
			} else if row != 1 && tok.NTLM != nil {
				t.Errorf("NTLM message reported in a token without NTLMSSP: %T", tok.NTLM)
			}
		})
	}
	if n != len(rows) {
		t.Errorf("checked %d SPNEGO vectors, want %d", n, len(rows))
	}
}

func TestWrapSPNEGOInitMatchesWindows(t *testing.T) {
	want := mustHex(t, hexNegTokenInitNTLM)
	inner := want[34:]
	got := WrapSPNEGOInit(inner)
	if !bytes.Equal(got, want) {
		t.Fatalf("WrapSPNEGOInit:\n got %x\nwant %x", got, want)
	}
}

func TestWrapSPNEGORespMatchesVector(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.ID != "SPNEGO-NegTokenResp-CHALLENGE" {
			continue
		}
		i := bytes.Index(v.Bytes, []byte(Signature))
		got := WrapSPNEGOResp(AcceptIncomplete, v.Bytes[i:])
		if !bytes.Equal(got, v.Bytes) {
			t.Fatalf("WrapSPNEGOResp:\n got %x\nwant %x", got, v.Bytes)
		}
		return
	}
	t.Fatal("vector SPNEGO-NegTokenResp-CHALLENGE not found")
}

func TestWrapSPNEGORespNoToken(t *testing.T) {
	got := WrapSPNEGOResp(AcceptCompleted, nil)
	tok, err := DecodeToken(SchemeNegotiate, got)
	if err != nil {
		t.Fatal(err)
	}
	if tok.SPNEGO != NegTokenResp || tok.NegState != AcceptCompleted || tok.Mech != MechNone || tok.NTLM != nil {
		t.Errorf("got %+v", tok)
	}
	// Without negState.
	tok, err = DecodeToken(SchemeNegotiate, WrapSPNEGOResp(NegStateAbsent, nil))
	if err != nil || tok.NegState != NegStateAbsent {
		t.Errorf("absent negState: %+v, %v", tok, err)
	}
}

func TestDecodeTokenInline(t *testing.T) {
	tests := []struct {
		name      string
		hex       string
		kind      SPNEGOKind
		state     NegState
		mech      Mech
		supported string
		ntlm      MessageType // 0: none
	}{
		{"NegTokenInit NTLM", hexNegTokenInitNTLM, NegTokenInit, NegStateAbsent, MechNTLM, "", TypeNegotiate},
		{"accept-completed, only mechListMIC", hexAcceptComplete, NegTokenResp, AcceptCompleted, MechNone, "", 0},
		{"request-mic, supportedMech only", hexRequestMIC, NegTokenResp, RequestMIC, MechNTLM, OIDNTLMSSP, 0},
		{"raw NTLMSSP under Negotiate", hexNegTokenInitNTLM[68:], NotSPNEGO, NegStateAbsent, MechNTLM, "", TypeNegotiate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := DecodeToken(SchemeNegotiate, mustHex(t, tt.hex))
			if err != nil {
				t.Fatal(err)
			}
			if tok.SPNEGO != tt.kind || tok.NegState != tt.state || tok.Mech != tt.mech || tok.SupportedMech != tt.supported {
				t.Errorf("got SPNEGO %v negState %v mech %v supportedMech %q", tok.SPNEGO, tok.NegState, tok.Mech, tok.SupportedMech)
			}
			if tt.ntlm == 0 && tok.NTLM != nil || tt.ntlm != 0 && (tok.NTLM == nil || tok.NTLM.Type() != tt.ntlm) {
				t.Errorf("NTLM = %#v, want type %v", tok.NTLM, tt.ntlm)
			}
		})
	}
}

// krbGSS builds a GSS-API InitialContextToken for a krb5 OID around a
// 2-byte tok_id and a (fake) Kerberos message with the given tag.
func krbGSS(oid string, tokID []byte, tag byte) []byte {
	inner := appendDER(nil, tagOID, encodeOID(oid))
	inner = append(inner, tokID...)
	inner = appendDER(inner, tag, appendDER(nil, tagSequence, []byte{0x02, 0x01, 0x05}))
	return appendDER(nil, tagGSSWrapper, inner)
}

// negTokenInit builds a NegTokenInit offering mechTypes with mechToken.
func negTokenInit(mechTypes []string, mechToken []byte) []byte {
	var oids []byte
	for _, o := range mechTypes {
		oids = appendDER(oids, tagOID, encodeOID(o))
	}
	body := appendDER(nil, tagContext0, appendDER(nil, tagSequence, oids))
	if mechToken != nil {
		body = appendDER(body, tagContext2, appendDER(nil, tagOctetString, mechToken))
	}
	init := appendDER(nil, tagContext0, appendDER(nil, tagSequence, body))
	return appendDER(nil, tagGSSWrapper, append(appendDER(nil, tagOID, encodeOID(OIDSPNEGO)), init...))
}

// negTokenResp builds a NegTokenResp.
func negTokenResp(state NegState, supported string, respToken []byte) []byte {
	var body []byte
	if state != NegStateAbsent {
		body = appendDER(body, tagContext0, appendDER(nil, tagEnumerated, []byte{byte(state)}))
	}
	if supported != "" {
		body = appendDER(body, tagContext1, appendDER(nil, tagOID, encodeOID(supported)))
	}
	if respToken != nil {
		body = appendDER(body, tagContext2, appendDER(nil, tagOctetString, respToken))
	}
	return appendDER(nil, tagContext1, appendDER(nil, tagSequence, body))
}

func TestDecodeTokenKerberos(t *testing.T) {
	apReq := krbGSS(OIDKerberos5, []byte{1, 0}, tagKrbAPReq)
	apRep := krbGSS(OIDKerberos5, []byte{2, 0}, tagKrbAPRep)
	krbErr := krbGSS(OIDMSKerberos5, []byte{3, 0}, tagKrbError)
	negoEx := append([]byte(negoExSig), make([]byte, 32)...)
	tests := []struct {
		name   string
		scheme Scheme
		b      []byte
		kind   SPNEGOKind
		mech   Mech
		krb    KerberosKind
		types  int
	}{
		// Windows offers NTLMSSP among mechTypes while sending an AP-REQ:
		// the mechToken decides.
		{"NegTokenInit with NTLMSSP listed, AP-REQ sent", SchemeNegotiate,
			negTokenInit([]string{OIDMSKerberos5, OIDKerberos5, OIDNegoEx, OIDNTLMSSP}, apReq), NegTokenInit, MechKerberos, KerberosAPReq, 4},
		{"NegTokenInit offer only", SchemeNegotiate,
			negTokenInit([]string{OIDKerberos5, OIDNTLMSSP}, nil), NegTokenInit, MechNone, KerberosNone, 2},
		{"NegTokenResp AP-REP", SchemeNegotiate,
			negTokenResp(AcceptCompleted, OIDMSKerberos5, apRep), NegTokenResp, MechKerberos, KerberosAPRep, 0},
		{"NegTokenResp KRB-ERROR", SchemeNegotiate,
			negTokenResp(AcceptIncomplete, OIDKerberos5, krbErr), NegTokenResp, MechKerberos, KerberosError, 0},
		{"NegTokenResp supportedMech krb5, no token", SchemeNegotiate,
			negTokenResp(AcceptCompleted, OIDKerberos5, nil), NegTokenResp, MechKerberos, KerberosNone, 0},
		{"NegTokenInit NegoEx", SchemeNegotiate,
			negTokenInit([]string{OIDNegoEx, OIDNTLMSSP}, negoEx), NegTokenInit, MechNegoEx, KerberosNone, 2},
		{"raw GSS krb5 AP-REQ under Negotiate", SchemeNegotiate, apReq, NotSPNEGO, MechKerberos, KerberosAPReq, 0},
		{"bare Kerberos scheme AP-REQ", SchemeKerberos, apReq[2+2+len(encodeOID(OIDKerberos5))+2:], NotSPNEGO, MechKerberos, KerberosAPReq, 0},
		{"bare AP-REP", SchemeKerberos, []byte{tagKrbAPRep, 0x03, 0x30, 0x01, 0x00}, NotSPNEGO, MechKerberos, KerberosAPRep, 0},
		{"GSS krb5 tok_id only", SchemeKerberos, krbGSS(OIDKerberos5, []byte{4, 4}, 0x30), NotSPNEGO, MechKerberos, KerberosOther, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := DecodeToken(tt.scheme, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if tok.SPNEGO != tt.kind || tok.Mech != tt.mech || tok.Kerberos != tt.krb || len(tok.MechTypes) != tt.types || tok.NTLM != nil {
				t.Errorf("got SPNEGO %v mech %v kerberos %v mechTypes %v NTLM %v", tok.SPNEGO, tok.Mech, tok.Kerberos, tok.MechTypes, tok.NTLM)
			}
		})
	}
}

func TestDecodeTokenErrors(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		field string
		is    error
	}{
		{"unknown first byte", []byte{0x01, 0x02}, "token", ErrUnknownType},
		{"GSS wrapper length past end", []byte{0x60, 0x82, 0xff, 0xff, 0x06}, "InitialContextToken", ErrTruncated},
		{"GSS wrapper indefinite length", []byte{0x60, 0x80, 0x06, 0x00}, "InitialContextToken", ErrMalformed},
		{"GSS wrapper 5-byte length", []byte{0x60, 0x85, 1, 1, 1, 1, 1}, "InitialContextToken", ErrMalformed},
		{"NegTokenResp truncated", mustHex(t, hexRequestMIC)[:10], "NegTokenResp", ErrTruncated},
		{"SPNEGO with no inner token", appendDER(nil, tagGSSWrapper, appendDER(nil, tagOID, encodeOID(OIDSPNEGO))), "InitialContextToken.innerToken", ErrTruncated},
		{"negState not ENUMERATED", appendDER(nil, tagContext1, appendDER(nil, tagSequence, appendDER(nil, tagContext0, []byte{0x02, 0x01, 0x01}))), "NegTokenResp.negState", ErrMalformed},
		{"OID ends inside an arc", appendDER(nil, tagGSSWrapper, []byte{0x06, 0x02, 0x2b, 0x86}), "InitialContextToken.thisMech", ErrTruncated},
		{"NTLM inside SPNEGO truncated", WrapSPNEGOInit([]byte("NTLMSSP\x00\x03\x00\x00\x00")), "LmChallengeResponseFields", ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := DecodeToken(SchemeNegotiate, tt.b)
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Field != tt.field || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want field %q wrapping %v", err, tt.field, tt.is)
			}
			if tok == nil {
				t.Fatal("nil token")
			}
		})
	}
}

func TestEmptyToken(t *testing.T) {
	tok, err := DecodeToken(SchemeNegotiate, nil)
	if err != nil || tok.Mech != MechNone || tok.NegState != NegStateAbsent {
		t.Errorf("got %+v, %v", tok, err)
	}
}

func TestParseOID(t *testing.T) {
	for _, oid := range []string{OIDSPNEGO, OIDNTLMSSP, OIDKerberos5, OIDMSKerberos5, OIDNegoEx, "2.999.1", "1.2.840.113549.1.1.11"} {
		got, err := parseOID(encodeOID(oid), "x")
		if err != nil || got != oid {
			t.Errorf("parseOID(encodeOID(%s)) = %s, %v", oid, got, err)
		}
	}
	if _, err := parseOID(nil, "x"); err == nil {
		t.Error("empty OID accepted")
	}
	if _, err := parseOID(bytes.Repeat([]byte{0xff}, 20), "x"); err == nil {
		t.Error("huge arc accepted")
	}
}
