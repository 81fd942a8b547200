package reassembly

import (
	"bytes"
	"time"

	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
)

// Bounds on the fragments held while waiting for the rest of a datagram.
const (
	// fragTimeout: IPv4 fragments older than this in capture time are
	// dropped (Linux waits 30 s; a capture may lag). ip6defrag ages
	// fragments by wall-clock time, meaningless for a file, so IPv6 relies
	// on the byte bound alone.
	fragTimeout = 60 * time.Second
	// maxFragBytes: past this many bytes held, a defragmenter is dropped
	// with everything it holds and started afresh.
	maxFragBytes = 64 << 20
)

// defragState reassembles IPv4 and IPv6 fragments with gopacket's
// defragmenters, created on the first fragment. Both keep the layers and
// slices they are given, so every fragment is copied out of the reader's
// buffer first: fragments are rare, the common path stays allocation-free.
type defragState struct {
	v4           *ip4defrag.IPv4Defragmenter
	v6           *ip6defrag.IPv6Defragmenter
	held4, held6 int // bytes given and not yet returned (an upper estimate)
	expireAt     time.Time
}

// ipv4 adds an IPv4 fragment and returns the datagram it completes, or nil.
func (s *defragState) ipv4(ip *layers.IPv4, ts time.Time) *layers.IPv4 {
	if s.v4 == nil || s.held4 > maxFragBytes {
		s.v4, s.held4 = ip4defrag.NewIPv4Defragmenter(), 0
	}
	if ts.After(s.expireAt) {
		s.v4.DiscardOlderThan(ts.Add(-fragTimeout))
		s.expireAt = ts.Add(fragTimeout / 4)
	}
	c := &layers.IPv4{
		Version: ip.Version, IHL: ip.IHL, TOS: ip.TOS, Length: ip.Length, Id: ip.Id,
		Flags: ip.Flags, FragOffset: ip.FragOffset, TTL: ip.TTL, Protocol: ip.Protocol,
		SrcIP: bytes.Clone(ip.SrcIP), DstIP: bytes.Clone(ip.DstIP),
	}
	c.Payload = bytes.Clone(ip.Payload)
	whole, err := s.v4.DefragIPv4WithTimestamp(c, ts)
	if err != nil || whole == nil {
		s.held4 += len(c.Payload)
		return nil
	}
	s.held4 = max(s.held4-len(whole.Payload), 0)
	return whole
}

// ipv6 adds an IPv6 fragment of the packet whose fixed header is hdr and
// returns the packet it completes, or nil.
func (s *defragState) ipv6(hdr []byte, next layers.IPProtocol, off uint16, more bool, id uint32, payload []byte) *layers.IPv6 {
	if s.v6 == nil || s.held6 > maxFragBytes {
		s.v6, s.held6 = ip6defrag.NewIPv6Defragmenter(), 0
	}
	ip := &layers.IPv6{
		Version: 6, HopLimit: hdr[7],
		SrcIP: bytes.Clone(hdr[8:24]), DstIP: bytes.Clone(hdr[24:40]),
	}
	frag := &layers.IPv6Fragment{
		NextHeader: next, FragmentOffset: off, MoreFragments: more, Identification: id,
	}
	frag.Payload = bytes.Clone(payload)
	whole := s.v6.DefragIPv6(ip, frag)
	if whole == nil {
		s.held6 += len(payload)
		return nil
	}
	s.held6 = max(s.held6-len(whole.Payload), 0)
	return whole
}
