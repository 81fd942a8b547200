package ntlm

import "encoding/binary"

// Negotiate is the NEGOTIATE_MESSAGE (type 1, MS-NLMP 2.2.1.1), sent by the
// client to open the exchange.
//
//	offset  size  field
//	0       8     Signature "NTLMSSP\0"
//	8       4     MessageType = 1
//	12      4     NegotiateFlags
//	16      8     DomainNameFields      (Len, MaxLen, BufferOffset)
//	24      8     WorkstationFields     (Len, MaxLen, BufferOffset)
//	32      8     Version               (only with NTLMSSP_NEGOTIATE_VERSION and room before the payload)
//	32/40   -     Payload: DomainName, Workstation (OEM, whatever the UNICODE flag says)
//
// Old clients send only the first 16 bytes, or 32 bytes with no Version.
type Negotiate struct {
	Flags       NegotiateFlags
	Domain      string   // OEM DomainName, "" when absent
	Workstation string   // OEM Workstation, "" when absent
	Version     *Version // nil when absent
}

// Type returns TypeNegotiate.
func (*Negotiate) Type() MessageType { return TypeNegotiate }

const (
	negotiateFixedLen  = 16 // signature, type, flags
	negotiateHeaderLen = 32 // plus the two security buffers
)

// parseNegotiate decodes a NEGOTIATE message whose signature and type have
// been checked. The message is nil when the fixed header is cut short.
func parseNegotiate(x dec, b []byte) (*Negotiate, error) {
	if len(b) < negotiateFixedLen {
		return nil, errTrunc("NegotiateFlags", "message is %d bytes, need %d", len(b), negotiateFixedLen)
	}
	var errs errList
	m := x.negotiate()
	m.Flags = NegotiateFlags(binary.LittleEndian.Uint32(b[12:]))
	if len(b) == negotiateFixedLen {
		return m, nil
	}
	if len(b) < negotiateHeaderLen {
		field := "DomainNameFields"
		if len(b) >= 24 {
			field = "WorkstationFields"
		}
		return m, errTrunc(field, "message is %d bytes, need %d", len(b), negotiateHeaderLen)
	}
	dom := readSecBuf(b, 16)
	ws := readSecBuf(b, 24)
	end := headerEnd(len(b), dom, ws)
	if m.Flags.Has(NegotiateVersion) && end >= negotiateHeaderLen+versionLen {
		m.Version = x.version(b[negotiateHeaderLen:])
	}
	m.Domain = x.str(payload(b, "DomainNameFields", dom, &errs), false, "DomainName", &errs)
	m.Workstation = x.str(payload(b, "WorkstationFields", ws, &errs), false, "Workstation", &errs)
	return m, errs.err()
}
