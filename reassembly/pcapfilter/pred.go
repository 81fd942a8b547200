package pcapfilter

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/net/bpf"
)

// pred is a predicate over a packet, built from tests of header fields
// joined with and, or and not; the code generator turns it into jumps.
type pred interface{}

type (
	predTrue  struct{}
	predFalse struct{}
	predAnd   []pred
	predOr    []pred
	predNot   struct{ x pred }
)

// testOp is the comparison of a test.
type testOp uint8

const (
	opEq  testOp = iota // ==
	opGt                // >
	opGe                // >=
	opSet               // & val != 0
)

// jumpTests maps testOp to x/net/bpf's conditions.
var jumpTests = [...]bpf.JumpTest{opEq: bpf.JumpEqual, opGt: bpf.JumpGreaterThan, opGe: bpf.JumpGreaterOrEqual, opSet: bpf.JumpBitsSet}

// test loads size bytes (1, 2 or 4, big-endian) at off, masks them when
// mask is not 0, and compares them with val. With ind, off is relative to
// X, which holds the IPv4 header length (4 * (packet[xoff] & 0xf)).
type test struct {
	off  uint32
	size int
	ind  bool
	xoff uint32
	mask uint32
	op   testOp
	val  uint32
}

// and joins ps, folding constants.
func and(ps ...pred) pred {
	var out predAnd
	for _, p := range ps {
		switch p := p.(type) {
		case predTrue:
		case predFalse:
			return predFalse{}
		case predAnd:
			out = append(out, p...)
		default:
			out = append(out, p)
		}
	}
	switch len(out) {
	case 0:
		return predTrue{}
	case 1:
		return out[0]
	}
	return out
}

// or joins ps, folding constants.
func or(ps ...pred) pred {
	var out predOr
	for _, p := range ps {
		switch p := p.(type) {
		case predFalse:
		case predTrue:
			return predTrue{}
		case predOr:
			out = append(out, p...)
		default:
			out = append(out, p)
		}
	}
	switch len(out) {
	case 0:
		return predFalse{}
	case 1:
		return out[0]
	}
	return out
}

// not negates p, folding constants.
func not(p pred) pred {
	switch p := p.(type) {
	case predTrue:
		return predFalse{}
	case predFalse:
		return predTrue{}
	case predNot:
		return p.x
	}
	return predNot{p}
}

// IP protocol numbers.
const (
	ipProtoTCP      = 6
	ipProtoUDP      = 17
	ipProtoSCTP     = 132
	ipProtoFragment = 44 // IPv6 fragment header
)

// Offsets in the IPv4 and IPv6 headers.
const (
	ip4Frag  = 6 // flags(3) | fragment offset(13)
	ip4Proto = 9
	ip4Src   = 12
	ip4Dst   = 16
	ip6Next  = 6
	ip6Src   = 8
	ip6Dst   = 24
	ip6Body  = 40 // the first extension header or the transport header
	arpSPA   = 14 // sender protocol address, in an Ethernet/IPv4 ARP packet
	arpTPA   = 24 // target protocol address
)

// compiler turns a parsed expression into a predicate for one link.
type compiler struct{ l linkLayout }

func (c compiler) pred(n node) pred {
	switch n := n.(type) {
	case andNode:
		return and(c.pred(n.l), c.pred(n.r))
	case orNode:
		return or(c.pred(n.l), c.pred(n.r))
	case notNode:
		return not(c.pred(n.x))
	case protoNode:
		return c.proto(n.p)
	case hostNode:
		return c.host(n)
	case portNode:
		return c.port(n)
	}
	panic("pcapfilter: unknown node")
}

// proto is ip, ip6, tcp or udp alone. Like libpcap, tcp and udp also
// find the protocol behind one IPv6 fragment header.
func (c compiler) proto(p proto) pred {
	l := c.l
	switch p {
	case protoIP:
		return l.isEther(etherIPv4)
	case protoIP6:
		return l.isEther(etherIPv6)
	}
	num := uint32(ipProtoTCP)
	if p == protoUDP {
		num = ipProtoUDP
	}
	return or(
		and(l.isEther(etherIPv4), c.byte(ip4Proto, num)),
		and(l.isEther(etherIPv6), or(
			c.byte(ip6Next, num),
			and(c.byte(ip6Next, ipProtoFragment), c.byte(ip6Body, num)))))
}

// byte tests the byte at off in the network layer.
func (c compiler) byte(off, val uint32) pred {
	return test{off: c.l.nl + off, size: 1, op: opEq, val: val}
}

// host is host or net: an IPv4 one also matches ARP and RARP sender and
// target addresses, unless qualified with ip.
func (c compiler) host(n hostNode) pred {
	l := c.l
	if !n.pfx.Addr().Is4() {
		return and(l.isEther(etherIPv6), direction(n.q.dir,
			c.prefix(ip6Src, n.pfx), c.prefix(ip6Dst, n.pfx)))
	}
	ip := and(l.isEther(etherIPv4), direction(n.q.dir, c.prefix(ip4Src, n.pfx), c.prefix(ip4Dst, n.pfx)))
	if n.q.proto == protoIP {
		return ip
	}
	arp := direction(n.q.dir, c.prefix(arpSPA, n.pfx), c.prefix(arpTPA, n.pfx))
	return or(ip, and(or(l.isEther(etherARP), l.isEther(etherRARP)), arp))
}

// prefix tests the address at off in the network layer against pfx, 32
// bits at a time.
func (c compiler) prefix(off uint32, pfx netip.Prefix) pred {
	b := pfx.Addr().AsSlice()
	var ps []pred
	for w := 0; w*4 < len(b); w++ {
		bits := min(max(pfx.Bits()-32*w, 0), 32)
		if bits == 0 {
			break
		}
		mask := ^uint32(0) << (32 - bits)
		t := test{off: c.l.nl + off + uint32(4*w), size: 4, op: opEq, val: binary.BigEndian.Uint32(b[4*w:]) & mask}
		if bits < 32 {
			t.mask = mask
		}
		ps = append(ps, t)
	}
	return and(ps...)
}

// port is port or portrange: TCP, UDP and SCTP unless qualified, on
// IPv6 without extension headers and on IPv4 except non-first fragments.
func (c compiler) port(n portNode) pred {
	l := c.l
	protos := []uint32{ipProtoSCTP, ipProtoTCP, ipProtoUDP}
	switch n.q.proto {
	case protoTCP:
		protos = []uint32{ipProtoTCP}
	case protoUDP:
		protos = []uint32{ipProtoUDP}
	}
	var is4, is6 []pred
	for _, p := range protos {
		is4 = append(is4, c.byte(ip4Proto, p))
		is6 = append(is6, c.byte(ip6Next, p))
	}
	match := func(t test) pred {
		if n.q.addr == addrPort {
			t.op, t.val = opEq, uint32(n.lo)
			return t
		}
		ge, gt := t, t
		ge.op, ge.val = opGe, uint32(n.lo)
		gt.op, gt.val = opGt, uint32(n.hi)
		return and(ge, not(gt))
	}
	v6 := and(l.isEther(etherIPv6), or(is6...), direction(n.q.dir,
		match(test{off: l.nl + ip6Body, size: 2}),
		match(test{off: l.nl + ip6Body + 2, size: 2})))
	v4 := and(l.isEther(etherIPv4), or(is4...),
		not(test{off: l.nl + ip4Frag, size: 2, op: opSet, val: 0x1fff}),
		direction(n.q.dir,
			match(test{off: l.nl, size: 2, ind: true, xoff: l.nl}),
			match(test{off: l.nl + 2, size: 2, ind: true, xoff: l.nl})))
	return or(v6, v4)
}

// direction combines the source and destination tests as d says.
func direction(d dir, src, dst pred) pred {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	case dirAnd:
		return and(src, dst)
	}
	return or(src, dst)
}
