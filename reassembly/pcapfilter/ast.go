package pcapfilter

import (
	"net/netip"
	"strconv"
)

// proto is a protocol qualifier or primitive.
type proto uint8

const (
	protoNone proto = iota
	protoIP
	protoIP6
	protoTCP
	protoUDP
)

var protoNames = [...]string{"", "ip", "ip6", "tcp", "udp"}

// dir is a direction qualifier. dirAny is tcpdump's default, the same as
// "src or dst".
type dir uint8

const (
	dirAny dir = iota
	dirSrc
	dirDst
	dirOr  // src or dst, written out
	dirAnd // src and dst
)

var dirNames = [...]string{"", "src", "dst", "src or dst", "src and dst"}

// addrKind is an address-type qualifier.
type addrKind uint8

const (
	addrDefault addrKind = iota // none given: host, for an address
	addrHost
	addrNet
	addrPort
	addrPortRange
)

var addrNames = [...]string{"", "host", "net", "port", "portrange"}

// qual is the qualifiers in force for a value: those of the primitive it
// belongs to, or, for a bare value after and/or, those of the primitive
// before it (libpcap's $0). bad marks a context with no qualifiers to
// repeat (the start, or after a bare protocol such as "tcp").
type qual struct {
	proto proto
	dir   dir
	addr  addrKind
	bad   bool
}

// node is a parsed expression. String gives canonical tcpdump syntax that
// parses back to the same tree.
type node interface{ String() string }

type (
	andNode   struct{ l, r node }
	orNode    struct{ l, r node }
	notNode   struct{ x node }
	protoNode struct{ p proto }
	// hostNode is host (full-length prefix) or net; a net carries the
	// qualifier addrNet so that it prints as written.
	hostNode struct {
		q   qual
		pfx netip.Prefix
	}
	// portNode is port (lo == hi, not a range) or portrange.
	portNode struct {
		q      qual
		lo, hi uint16
	}
)

func (n andNode) String() string   { return "(" + n.l.String() + " and " + n.r.String() + ")" }
func (n orNode) String() string    { return "(" + n.l.String() + " or " + n.r.String() + ")" }
func (n notNode) String() string   { return "not " + n.x.String() }
func (n protoNode) String() string { return protoNames[n.p] }

func (n hostNode) String() string {
	v := n.pfx.Addr().String()
	if n.q.addr == addrNet {
		v = n.pfx.String()
	}
	return head(n.q) + v
}

func (n portNode) String() string {
	v := strconv.Itoa(int(n.lo))
	if n.q.addr == addrPortRange {
		v += "-" + strconv.Itoa(int(n.hi))
	}
	return head(n.q) + v
}

// head prints qualifiers, each followed by a space.
func head(q qual) string {
	s := ""
	for _, w := range []string{protoNames[q.proto], dirNames[q.dir], addrNames[q.addr]} {
		if w != "" {
			s += w + " "
		}
	}
	return s
}
