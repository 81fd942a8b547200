package ntlm

import (
	"fmt"
	"strings"
)

// NegotiateFlags is the NegotiateFlags field of every NTLMSSP message
// (MS-NLMP 2.2.2.5), a little-endian uint32. Bit names follow MS-NLMP; the
// bits MS-NLMP reserves (r1..r10) have no name and print as
// UNKNOWN_FLAG_0x........
type NegotiateFlags uint32

// Negotiate flag bits (MS-NLMP 2.2.2.5), lowest bit first.
const (
	NegotiateUnicode                 NegotiateFlags = 0x00000001 // A: NTLMSSP_NEGOTIATE_UNICODE
	NegotiateOEM                     NegotiateFlags = 0x00000002 // B: NTLM_NEGOTIATE_OEM
	RequestTarget                    NegotiateFlags = 0x00000004 // C: NTLMSSP_REQUEST_TARGET
	NegotiateSign                    NegotiateFlags = 0x00000010 // D: NTLMSSP_NEGOTIATE_SIGN
	NegotiateSeal                    NegotiateFlags = 0x00000020 // E: NTLMSSP_NEGOTIATE_SEAL
	NegotiateDatagram                NegotiateFlags = 0x00000040 // F: NTLMSSP_NEGOTIATE_DATAGRAM
	NegotiateLMKey                   NegotiateFlags = 0x00000080 // G: NTLMSSP_NEGOTIATE_LM_KEY
	NegotiateNTLM                    NegotiateFlags = 0x00000200 // H: NTLMSSP_NEGOTIATE_NTLM
	NegotiateAnonymous               NegotiateFlags = 0x00000800 // J: NTLMSSP_ANONYMOUS
	NegotiateOEMDomainSupplied       NegotiateFlags = 0x00001000 // K: NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED
	NegotiateOEMWorkstationSupplied  NegotiateFlags = 0x00002000 // L: NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED
	NegotiateAlwaysSign              NegotiateFlags = 0x00008000 // M: NTLMSSP_NEGOTIATE_ALWAYS_SIGN
	TargetTypeDomain                 NegotiateFlags = 0x00010000 // N: NTLMSSP_TARGET_TYPE_DOMAIN
	TargetTypeServer                 NegotiateFlags = 0x00020000 // O: NTLMSSP_TARGET_TYPE_SERVER
	NegotiateExtendedSessionSecurity NegotiateFlags = 0x00080000 // P: NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
	NegotiateIdentify                NegotiateFlags = 0x00100000 // Q: NTLMSSP_NEGOTIATE_IDENTIFY
	RequestNonNTSessionKey           NegotiateFlags = 0x00400000 // R: NTLMSSP_REQUEST_NON_NT_SESSION_KEY
	NegotiateTargetInfo              NegotiateFlags = 0x00800000 // S: NTLMSSP_NEGOTIATE_TARGET_INFO
	NegotiateVersion                 NegotiateFlags = 0x02000000 // T: NTLMSSP_NEGOTIATE_VERSION
	Negotiate128                     NegotiateFlags = 0x20000000 // U: NTLMSSP_NEGOTIATE_128
	NegotiateKeyExch                 NegotiateFlags = 0x40000000 // V: NTLMSSP_NEGOTIATE_KEY_EXCH
	Negotiate56                      NegotiateFlags = 0x80000000 // W: NTLMSSP_NEGOTIATE_56
)

// flagNames holds the name of each defined bit, without the "NTLMSSP_" prefix
// (MS-NLMP spells bit B "NTLM_NEGOTIATE_OEM"; it is listed here as
// NEGOTIATE_OEM like the others, as Wireshark does).
var flagNames = map[NegotiateFlags]string{
	NegotiateUnicode:                 "NEGOTIATE_UNICODE",
	NegotiateOEM:                     "NEGOTIATE_OEM",
	RequestTarget:                    "REQUEST_TARGET",
	NegotiateSign:                    "NEGOTIATE_SIGN",
	NegotiateSeal:                    "NEGOTIATE_SEAL",
	NegotiateDatagram:                "NEGOTIATE_DATAGRAM",
	NegotiateLMKey:                   "NEGOTIATE_LM_KEY",
	NegotiateNTLM:                    "NEGOTIATE_NTLM",
	NegotiateAnonymous:               "ANONYMOUS",
	NegotiateOEMDomainSupplied:       "NEGOTIATE_OEM_DOMAIN_SUPPLIED",
	NegotiateOEMWorkstationSupplied:  "NEGOTIATE_OEM_WORKSTATION_SUPPLIED",
	NegotiateAlwaysSign:              "NEGOTIATE_ALWAYS_SIGN",
	TargetTypeDomain:                 "TARGET_TYPE_DOMAIN",
	TargetTypeServer:                 "TARGET_TYPE_SERVER",
	NegotiateExtendedSessionSecurity: "NEGOTIATE_EXTENDED_SESSIONSECURITY",
	NegotiateIdentify:                "NEGOTIATE_IDENTIFY",
	RequestNonNTSessionKey:           "REQUEST_NON_NT_SESSION_KEY",
	NegotiateTargetInfo:              "NEGOTIATE_TARGET_INFO",
	NegotiateVersion:                 "NEGOTIATE_VERSION",
	Negotiate128:                     "NEGOTIATE_128",
	NegotiateKeyExch:                 "NEGOTIATE_KEY_EXCH",
	Negotiate56:                      "NEGOTIATE_56",
}

// Has reports whether every bit of f is set in n.
func (n NegotiateFlags) Has(f NegotiateFlags) bool { return n&f == f }

// bitName returns the name of one bit without the NTLMSSP_ prefix.
func bitName(bit NegotiateFlags) string {
	if s, ok := flagNames[bit]; ok {
		return s
	}
	return fmt.Sprintf("UNKNOWN_FLAG_0x%08x", uint32(bit))
}

// Names returns the name of every set bit, lowest bit first, with the
// NTLMSSP_ prefix ("NTLMSSP_NEGOTIATE_UNICODE"); bits MS-NLMP does not name
// appear as "UNKNOWN_FLAG_0x00000008".
func (n NegotiateFlags) Names() []string {
	var out []string
	for i := 0; i < 32; i++ {
		bit := NegotiateFlags(1) << i
		if n&bit == 0 {
			continue
		}
		name := bitName(bit)
		if _, ok := flagNames[bit]; ok {
			name = "NTLMSSP_" + name
		}
		out = append(out, name)
	}
	return out
}

// String returns the short names of the set bits, lowest bit first, joined
// by "|" ("UNICODE|NTLM|EXTENDED_SESSIONSECURITY|VERSION"), or "0" when none
// is set. A short name is the MS-NLMP name without "NTLMSSP_" and
// "NEGOTIATE_"; unnamed bits print as UNKNOWN_FLAG_0x.........
func (n NegotiateFlags) String() string {
	if n == 0 {
		return "0"
	}
	var parts []string
	for i := 0; i < 32; i++ {
		bit := NegotiateFlags(1) << i
		if n&bit != 0 {
			parts = append(parts, strings.TrimPrefix(bitName(bit), "NEGOTIATE_"))
		}
	}
	return strings.Join(parts, "|")
}
