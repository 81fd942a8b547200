package ntlm

import (
	"encoding/binary"
	"fmt"
	"time"
)

// AVID is the AvId of an AV_PAIR (MS-NLMP 2.2.2.1).
type AVID uint16

// AV pair identifiers (MS-NLMP 2.2.2.1).
const (
	AvEOL             AVID = 0  // MsvAvEOL: end of the list
	AvNbComputerName  AVID = 1  // MsvAvNbComputerName: server NetBIOS name, UTF-16
	AvNbDomainName    AVID = 2  // MsvAvNbDomainName: server NetBIOS domain, UTF-16
	AvDnsComputerName AVID = 3  // MsvAvDnsComputerName: server FQDN, UTF-16
	AvDnsDomainName   AVID = 4  // MsvAvDnsDomainName: domain FQDN, UTF-16
	AvDnsTreeName     AVID = 5  // MsvAvDnsTreeName: forest FQDN, UTF-16
	AvFlags           AVID = 6  // MsvAvFlags: uint32, 0x2 = MIC present
	AvTimestamp       AVID = 7  // MsvAvTimestamp: FILETIME
	AvSingleHost      AVID = 8  // MsvAvSingleHost: Single_Host_Data
	AvTargetName      AVID = 9  // MsvAvTargetName: SPN the client aims at, UTF-16
	AvChannelBindings AVID = 10 // MsvAvChannelBindings: MD5 of gss_channel_bindings_struct
)

var avidNames = [...]string{
	AvEOL:             "MsvAvEOL",
	AvNbComputerName:  "MsvAvNbComputerName",
	AvNbDomainName:    "MsvAvNbDomainName",
	AvDnsComputerName: "MsvAvDnsComputerName",
	AvDnsDomainName:   "MsvAvDnsDomainName",
	AvDnsTreeName:     "MsvAvDnsTreeName",
	AvFlags:           "MsvAvFlags",
	AvTimestamp:       "MsvAvTimestamp",
	AvSingleHost:      "MsvAvSingleHost",
	AvTargetName:      "MsvAvTargetName",
	AvChannelBindings: "MsvAvChannelBindings",
}

// String returns the MS-NLMP name ("MsvAvNbComputerName") or
// "UNKNOWN_AVID_<n>".
func (id AVID) String() string {
	if int(id) < len(avidNames) {
		return avidNames[id]
	}
	return fmt.Sprintf("UNKNOWN_AVID_%d", uint16(id))
}

// MsvAvFlags bits (MS-NLMP 2.2.2.1).
const (
	AvFlagConstrained   uint32 = 0x1 // account authentication is constrained
	AvFlagMICPresent    uint32 = 0x2 // the AUTHENTICATE message carries a MIC
	AvFlagUntrustedSPN  uint32 = 0x4 // MsvAvTargetName came from an untrusted source
	avChannelBindingLen        = 16
)

// AVPair is one AV_PAIR as sent. Values are not secrets: names, flags,
// timestamps, the Single_Host_Data machine id and the channel-binding hash.
type AVPair struct {
	ID    AVID
	Value []byte
}

// AVPairs is an AV_PAIR list (MS-NLMP 2.2.2.1): the CHALLENGE TargetInfo, or
// the list a client puts in its NTLMv2 response (the server's pairs echoed,
// plus MsvAvFlags, MsvAvTimestamp, MsvAvSingleHost, MsvAvTargetName and
// MsvAvChannelBindings).
//
//	offset  size    field
//	0       2       AvId  (little endian)
//	2       2       AvLen (little endian)
//	4       AvLen   Value
//	...             more pairs, ending with AvId = MsvAvEOL, AvLen = 0
//
// Pairs holds every pair in order, the MsvAvEOL pair included when one was
// seen, unknown ids kept; bytes after MsvAvEOL (Windows pads the NTLMv2 blob
// with zeros) are ignored. The named fields hold the first value of each
// known id.
type AVPairs struct {
	Pairs []AVPair

	NbComputerName  string
	NbDomainName    string
	DnsComputerName string
	DnsDomainName   string
	DnsTreeName     string
	TargetName      string // MsvAvTargetName, the SPN

	Timestamp    time.Time // MsvAvTimestamp (UTC); zero time for FILETIME 0
	HasTimestamp bool

	Flags    uint32 // MsvAvFlags (AvFlagMICPresent = 0x2)
	HasFlags bool

	SingleHost []byte // MsvAvSingleHost value, nil when absent

	ChannelBindings     []byte // MsvAvChannelBindings value, nil when absent
	HasChannelBindings  bool
	ChannelBindingsZero bool // present and all zero: no TLS channel binding

	Terminated bool // the list ended with MsvAvEOL
}

// ServerIdentity names the server the list describes: MsvAvDnsComputerName,
// else MsvAvNbComputerName, else "".
func (a *AVPairs) ServerIdentity() string {
	if a == nil {
		return ""
	}
	if a.DnsComputerName != "" {
		return a.DnsComputerName
	}
	return a.NbComputerName
}

// Get returns the value of the first pair with the given id.
func (a *AVPairs) Get(id AVID) ([]byte, bool) {
	if a == nil {
		return nil, false
	}
	for _, p := range a.Pairs {
		if p.ID == id {
			return p.Value, true
		}
	}
	return nil, false
}

// parseAVPairs decodes an AV pair list. It stops at MsvAvEOL or at the end of
// p; a pair that runs past the end of p ends the list with an error naming
// field. Values are copied out of p (they share p for a Decoder).
func parseAVPairs(x dec, p []byte, field string) (*AVPairs, *ParseError) {
	var errs errList
	if x.d == nil {
		p = append([]byte(nil), p...) // values slice into this copy
	}
	a := x.avPairs()
	var seen uint32 // the known ids (all below 32) already seen
	for i := 0; len(p) > 0; i++ {
		if len(p) < 4 {
			errs.add(errTrunc(field, "pair %d: %d bytes left, need a 4-byte header", i, len(p)))
			break
		}
		id := AVID(binary.LittleEndian.Uint16(p))
		n := int(binary.LittleEndian.Uint16(p[2:]))
		if 4+n > len(p) {
			errs.add(errTrunc(field, "pair %d (%s): length %d past end of %d remaining bytes", i, id, n, len(p)-4))
			break
		}
		v := p[4 : 4+n : 4+n]
		if n == 0 {
			v = nil
		}
		p = p[4+n:]
		a.Pairs = x.appendPair(a.Pairs, AVPair{ID: id, Value: v})
		if id == AvEOL {
			a.Terminated = true
			break
		}
		if id >= 32 || seen&(1<<id) != 0 {
			continue // an unknown id names no field
		}
		seen |= 1 << id
		a.setField(x, id, v, field, &errs)
	}
	return a, errs.first
}

// setField fills the named field for a known id.
func (a *AVPairs) setField(x dec, id AVID, v []byte, field string, errs *errList) {
	// name is the field's name for errors: built only for one (the
	// strings of a UTF-16 value, a length that is not the id's).
	name := func() string { return field + "." + id.String() }
	str := func(v []byte) string {
		if len(v)%2 != 0 {
			return decodeString(v, true, name(), errs)
		}
		return x.str(v, true, "", errs)
	}
	switch id {
	case AvNbComputerName:
		a.NbComputerName = str(v)
	case AvNbDomainName:
		a.NbDomainName = str(v)
	case AvDnsComputerName:
		a.DnsComputerName = str(v)
	case AvDnsDomainName:
		a.DnsDomainName = str(v)
	case AvDnsTreeName:
		a.DnsTreeName = str(v)
	case AvTargetName:
		a.TargetName = str(v)
	case AvFlags:
		if len(v) != 4 {
			errs.add(errMalformed(name(), "length %d, want 4", len(v)))
			return
		}
		a.Flags, a.HasFlags = binary.LittleEndian.Uint32(v), true
	case AvTimestamp:
		if len(v) != 8 {
			errs.add(errMalformed(name(), "length %d, want 8", len(v)))
			return
		}
		a.Timestamp, a.HasTimestamp = fileTimeToTime(binary.LittleEndian.Uint64(v)), true
	case AvSingleHost:
		a.SingleHost = v
	case AvChannelBindings:
		a.ChannelBindings, a.HasChannelBindings = v, true
		a.ChannelBindingsZero = len(v) == avChannelBindingLen && allZero(v)
	}
}

// Marshal returns the wire form of the list: Pairs as they are when Pairs is
// set (with MsvAvEOL appended when no pair is MsvAvEOL), else the named
// fields in the order Windows uses, then MsvAvEOL.
func (a *AVPairs) Marshal() []byte {
	if a == nil {
		return appendAVPair(nil, AvEOL, nil)
	}
	var out []byte
	if len(a.Pairs) > 0 {
		eol := false
		for _, p := range a.Pairs {
			out = appendAVPair(out, p.ID, p.Value)
			if p.ID == AvEOL {
				eol = true
			}
		}
		if !eol {
			out = appendAVPair(out, AvEOL, nil)
		}
		return out
	}
	str := func(id AVID, s string) {
		if s != "" {
			out = appendAVPair(out, id, encodeUTF16(s))
		}
	}
	str(AvNbDomainName, a.NbDomainName)
	str(AvNbComputerName, a.NbComputerName)
	str(AvDnsDomainName, a.DnsDomainName)
	str(AvDnsComputerName, a.DnsComputerName)
	str(AvDnsTreeName, a.DnsTreeName)
	if a.HasTimestamp {
		out = appendAVPair(out, AvTimestamp, binary.LittleEndian.AppendUint64(nil, timeToFileTime(a.Timestamp)))
	}
	if a.HasFlags {
		out = appendAVPair(out, AvFlags, binary.LittleEndian.AppendUint32(nil, a.Flags))
	}
	if a.SingleHost != nil {
		out = appendAVPair(out, AvSingleHost, a.SingleHost)
	}
	if a.HasChannelBindings {
		cb := a.ChannelBindings
		if cb == nil {
			cb = make([]byte, avChannelBindingLen)
		}
		out = appendAVPair(out, AvChannelBindings, cb)
	}
	str(AvTargetName, a.TargetName)
	return appendAVPair(out, AvEOL, nil)
}

// appendAVPair appends one pair; values longer than 65535 bytes are cut.
func appendAVPair(dst []byte, id AVID, v []byte) []byte {
	if len(v) > 0xffff {
		v = v[:0xffff]
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(id))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(v)))
	return append(dst, v...)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// fileTimeEpochDelta is the number of seconds from 1601-01-01 (the FILETIME
// epoch) to 1970-01-01.
const fileTimeEpochDelta = 11644473600

// fileTimeToTime converts a FILETIME (100 ns ticks since 1601-01-01 UTC).
// FILETIME 0 gives the zero time.Time, so that IsZero reports "not set".
func fileTimeToTime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	sec := int64(ft/1e7) - fileTimeEpochDelta
	nsec := int64(ft%1e7) * 100
	return time.Unix(sec, nsec).UTC()
}

// timeToFileTime is the inverse of fileTimeToTime; times before 1601 give 0.
func timeToFileTime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	sec := t.Unix() + fileTimeEpochDelta
	if sec < 0 {
		return 0
	}
	return uint64(sec)*1e7 + uint64(t.Nanosecond()/100)
}
