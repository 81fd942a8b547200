package ntlm

import "fmt"

// NTLMRevisionCurrent is the only NTLMRevisionCurrent value MS-NLMP defines
// (NTLMSSP_REVISION_W2K3, 0x0F).
const NTLMRevisionCurrent = 0x0f

// Version is the VERSION structure (MS-NLMP 2.2.2.10) that follows the fixed
// header of a message when NTLMSSP_NEGOTIATE_VERSION is set and the payload
// leaves room for it. It names the sender's operating system, for debugging
// only.
//
//	offset  size  field
//	0       1     ProductMajorVersion
//	1       1     ProductMinorVersion
//	2       2     ProductBuild (little endian)
//	4       3     Reserved
//	7       1     NTLMRevisionCurrent (0x0F)
type Version struct {
	Major, Minor uint8
	Build        uint16
	Revision     uint8 // NTLMRevisionCurrent, 15 in every known message
}

// versionLen is the size of the VERSION structure on the wire.
const versionLen = 8

// String returns "Windows 10.0 build 19041".
func (v Version) String() string {
	return fmt.Sprintf("Windows %d.%d build %d", v.Major, v.Minor, v.Build)
}

// parseVersion reads the 8-byte VERSION structure at the start of b; the
// caller has checked the length.
func parseVersion(b []byte) *Version {
	v := readVersion(b)
	return &v
}

// readVersion is parseVersion without the allocation.
func readVersion(b []byte) Version {
	return Version{
		Major:    b[0],
		Minor:    b[1],
		Build:    uint16(b[2]) | uint16(b[3])<<8,
		Revision: b[7],
	}
}

// appendVersion appends the wire form of v.
func appendVersion(dst []byte, v *Version) []byte {
	return append(dst, v.Major, v.Minor, byte(v.Build), byte(v.Build>>8), 0, 0, 0, v.Revision)
}
