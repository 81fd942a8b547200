package ntlm

import (
	"encoding/binary"
	"strconv"
)

// Authenticate is the AUTHENTICATE_MESSAGE (type 3, MS-NLMP 2.2.1.3), the
// client's answer to a CHALLENGE.
//
//	offset  size  field
//	0       8     Signature "NTLMSSP\0"
//	8       4     MessageType = 3
//	12      8     LmChallengeResponseFields
//	20      8     NtChallengeResponseFields
//	28      8     DomainNameFields
//	36      8     UserNameFields
//	44      8     WorkstationFields
//	52      8     EncryptedRandomSessionKeyFields   (absent in the oldest messages)
//	60      4     NegotiateFlags                    (absent in the oldest messages)
//	64      8     Version   (only with NTLMSSP_NEGOTIATE_VERSION and the payload at >= 72)
//	72      16    MIC       (only with a Version and the payload at >= 88)
//	64/72/88 -    Payload: the buffers above, in any order (follow the offsets)
//
// Strings are UTF-16LE with NTLMSSP_NEGOTIATE_UNICODE, else OEM.
//
// The MIC is present when the header leaves room for it: a Version is present
// and the payload starts at 88 or later. An NTLMv2 client also says so with
// MsvAvFlags bit 0x2 in its blob (see MICFlagged).
type Authenticate struct {
	Flags       NegotiateFlags
	Domain      string
	User        string
	Workstation string
	Version     *Version // nil when absent

	LMResponse          Secret // LmChallengeResponse
	NTResponse          Secret // NtChallengeResponse
	EncryptedSessionKey Secret // EncryptedRandomSessionKey
	MIC                 Secret // nil when absent

	// Response is the kind of challenge response, derived from the lengths
	// of LMResponse and NTResponse, the user name and the flags.
	Response ResponseKind

	// ClientBlob is the decoded NTLMv2 client blob (nil unless Response ==
	// ResponseNTLMv2 and the blob has a readable header). When marshalling,
	// an empty NTResponse is built from it.
	ClientBlob *NTLMv2Blob
}

// Type returns TypeAuthenticate.
func (*Authenticate) Type() MessageType { return TypeAuthenticate }

// MICFlagged reports whether the client's NTLMv2 blob sets MsvAvFlags bit
// 0x2, promising a MIC.
func (m *Authenticate) MICFlagged() bool {
	return m.ClientBlob != nil && m.ClientBlob.Pairs != nil &&
		m.ClientBlob.Pairs.HasFlags && m.ClientBlob.Pairs.Flags&AvFlagMICPresent != 0
}

// IsAnonymous reports an anonymous authentication (MS-NLMP 3.2.5.1.2).
func (m *Authenticate) IsAnonymous() bool { return m.Response == ResponseAnonymous }

const (
	authMinLen     = 52 // through WorkstationFields
	authKeyEnd     = 60 // through EncryptedRandomSessionKeyFields
	authFlagsEnd   = 64 // through NegotiateFlags
	authVersionEnd = authFlagsEnd + versionLen
	authMICLen     = 16
	authMICEnd     = authVersionEnd + authMICLen
)

// parseAuthenticate decodes an AUTHENTICATE message whose signature and type
// have been checked. The message is nil when the fixed header is cut short.
func parseAuthenticate(x dec, b []byte) (*Authenticate, error) {
	if len(b) < authMinLen {
		fields := []string{"LmChallengeResponseFields", "NtChallengeResponseFields", "DomainNameFields", "UserNameFields", "WorkstationFields"}
		i := (len(b) - headerLen) / secBufLen
		if i < 0 {
			i = 0
		}
		return nil, errTrunc(fields[i], "message is %d bytes, need %d", len(b), authMinLen)
	}
	var errs errList
	lm := readSecBuf(b, 12)
	nt := readSecBuf(b, 20)
	dom := readSecBuf(b, 28)
	user := readSecBuf(b, 36)
	ws := readSecBuf(b, 44)
	end := headerEnd(len(b), lm, nt, dom, user, ws)

	m := x.authenticate()
	var key secBuf
	if end >= authKeyEnd {
		key = readSecBuf(b, 52)
		end = headerEnd(end, key)
	}
	if end >= authFlagsEnd {
		m.Flags = NegotiateFlags(binary.LittleEndian.Uint32(b[60:]))
	} else if end == len(b) && end > authMinLen {
		errs.add(errTrunc("NegotiateFlags", "message is %d bytes, need %d", len(b), authFlagsEnd))
	}
	if m.Flags.Has(NegotiateVersion) && end >= authVersionEnd {
		m.Version = x.version(b[authFlagsEnd:])
		if end >= authMICEnd {
			m.MIC = x.secret(b[authVersionEnd:authMICEnd])
		}
	}

	m.LMResponse = x.secret(payload(b, "LmChallengeResponseFields", lm, &errs))
	m.NTResponse = x.secret(payload(b, "NtChallengeResponseFields", nt, &errs))
	unicode := m.Flags.Has(NegotiateUnicode)
	m.Domain = x.str(payload(b, "DomainNameFields", dom, &errs), unicode, "DomainName", &errs)
	m.User = x.str(payload(b, "UserNameFields", user, &errs), unicode, "UserName", &errs)
	m.Workstation = x.str(payload(b, "WorkstationFields", ws, &errs), unicode, "Workstation", &errs)
	m.EncryptedSessionKey = x.secret(payload(b, "EncryptedRandomSessionKeyFields", key, &errs))

	m.Response = responseKind(m)
	if m.Response == ResponseNTLMv2 {
		blob, err := parseNTLMv2Response(x, m.NTResponse)
		errs.add(err)
		m.ClientBlob = blob
	}
	return m, errs.err()
}

// ResponseKind is the kind of challenge response an AUTHENTICATE carries
// (MS-NLMP 3.3), derived from the response lengths and flags.
type ResponseKind uint8

// Response kinds. The zero value, ResponseUnknown, is used when the lengths
// fit no kind (an NT response of 1 to 23 bytes, or buffers lost to a bad
// offset).
const (
	ResponseUnknown   ResponseKind = iota // lengths fit no known kind
	ResponseAnonymous                     // empty user, NT response empty, LM response empty or one zero byte
	ResponseLM                            // LM response only (24 bytes), NT response empty
	ResponseNTLMv1                        // 24-byte NT response
	ResponseNTLMv1ESS                     // 24-byte NT response, extended session security: LM = client challenge + 16 zero bytes
	ResponseNTLMv2                        // NT response longer than 24 bytes: NTProofStr + client blob (LM response is LMv2 or empty)
)

var responseKindNames = [...]string{
	ResponseUnknown:   "unknown",
	ResponseAnonymous: "anonymous",
	ResponseLM:        "LM",
	ResponseNTLMv1:    "NTLMv1",
	ResponseNTLMv1ESS: "NTLMv1-ESS",
	ResponseNTLMv2:    "NTLMv2",
}

// String returns "anonymous", "LM", "NTLMv1", "NTLMv1-ESS", "NTLMv2",
// "unknown" or "UNKNOWN_RESPONSEKIND_<n>".
func (k ResponseKind) String() string {
	if int(k) < len(responseKindNames) {
		return responseKindNames[k]
	}
	return "UNKNOWN_RESPONSEKIND_" + strconv.Itoa(int(k))
}

const ntlmv1ResponseLen = 24

// responseKind classifies the response from the bytes actually present.
func responseKind(m *Authenticate) ResponseKind {
	lm, nt := m.LMResponse, m.NTResponse
	switch {
	case len(nt) == 0 && (len(lm) == 0 || (len(lm) == 1 && lm[0] == 0)):
		if m.User == "" {
			return ResponseAnonymous
		}
		return ResponseUnknown
	case len(nt) == 0 && len(lm) == ntlmv1ResponseLen:
		return ResponseLM
	case len(nt) == ntlmv1ResponseLen:
		if m.Flags.Has(NegotiateExtendedSessionSecurity) && len(lm) == ntlmv1ResponseLen && allZero(lm[8:]) {
			return ResponseNTLMv1ESS
		}
		return ResponseNTLMv1
	case len(nt) > ntlmv1ResponseLen:
		return ResponseNTLMv2
	}
	return ResponseUnknown
}
