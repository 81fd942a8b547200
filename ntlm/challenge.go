package ntlm

import "encoding/binary"

// Challenge is the CHALLENGE_MESSAGE (type 2, MS-NLMP 2.2.1.2), the server's
// answer to a NEGOTIATE.
//
//	offset  size  field
//	0       8     Signature "NTLMSSP\0"
//	8       4     MessageType = 2
//	12      8     TargetNameFields      (Len, MaxLen, BufferOffset)
//	20      4     NegotiateFlags
//	24      8     ServerChallenge
//	32      8     Reserved              (absent in the oldest messages)
//	40      8     TargetInfoFields      (absent in the oldest messages)
//	48      8     Version               (only with NTLMSSP_NEGOTIATE_VERSION and room before the payload)
//	48/56   -     Payload: TargetName (UTF-16LE with NTLMSSP_NEGOTIATE_UNICODE, else OEM), TargetInfo (AV pairs)
//
// The TargetInfo buffer is decoded whenever it is non-empty, whether or not
// NTLMSSP_NEGOTIATE_TARGET_INFO is set (curl's test server omits the flag).
type Challenge struct {
	Flags           NegotiateFlags
	TargetName      string
	ServerChallenge Secret   // 8 bytes
	Version         *Version // nil when absent
	TargetInfo      *AVPairs // nil when absent
}

// Type returns TypeChallenge.
func (*Challenge) Type() MessageType { return TypeChallenge }

const (
	challengeFixedLen  = 32 // up to and including ServerChallenge
	challengeHeaderLen = 48 // plus Reserved and TargetInfoFields
)

// parseChallenge decodes a CHALLENGE message whose signature and type have
// been checked. The message is nil when the fixed header is cut short.
func parseChallenge(x dec, b []byte) (*Challenge, error) {
	if len(b) < challengeFixedLen {
		field := "ServerChallenge"
		switch {
		case len(b) < 20:
			field = "TargetNameFields"
		case len(b) < 24:
			field = "NegotiateFlags"
		}
		return nil, errTrunc(field, "message is %d bytes, need %d", len(b), challengeFixedLen)
	}
	var errs errList
	name := readSecBuf(b, 12)
	m := x.challenge()
	m.Flags = NegotiateFlags(binary.LittleEndian.Uint32(b[20:]))
	m.ServerChallenge = x.secret(b[24:32])
	var info secBuf
	hasInfo := false
	switch end := headerEnd(len(b), name); {
	case end >= challengeHeaderLen:
		info = readSecBuf(b, 40)
		hasInfo = true
	case end == len(b) && end > challengeFixedLen:
		// No payload, and the message ends inside Reserved and
		// TargetInfoFields.
		errs.add(errTrunc("TargetInfoFields", "message is %d bytes, need %d", len(b), challengeHeaderLen))
	default:
		// Old form: the payload starts before TargetInfoFields, right
		// after the server challenge (or after Reserved).
	}
	if hasInfo {
		end := headerEnd(len(b), name, info)
		if m.Flags.Has(NegotiateVersion) && end >= challengeHeaderLen+versionLen {
			m.Version = x.version(b[challengeHeaderLen:])
		}
	}
	m.TargetName = x.str(payload(b, "TargetNameFields", name, &errs), m.Flags.Has(NegotiateUnicode), "TargetName", &errs)
	if hasInfo && info.Len > 0 {
		p := payload(b, "TargetInfoFields", info, &errs)
		// A buffer entirely past the end yields no pairs: TargetInfo stays
		// nil and the error above says why.
		if len(p) > 0 {
			pairs, err := parseAVPairs(x, p, "TargetInfo")
			errs.add(err)
			m.TargetInfo = pairs
		}
	}
	return m, errs.err()
}
