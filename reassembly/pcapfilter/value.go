package pcapfilter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// value reads an address, prefix, port or port range under the
// qualifiers q, with tcpdump's checks.
func (p *parser) value(q qual, t token) (node, error) {
	fail := func(format string, args ...any) error {
		return &SyntaxError{Expr: p.src, Col: t.col, Msg: fmt.Sprintf(format, args...), Kind: ErrSyntax}
	}
	if q.bad {
		return nil, fail("%q needs a qualifier before it (host, net, port, portrange)", t.text)
	}
	w := t.text
	switch q.addr {
	case addrPort, addrPortRange:
		if q.proto == protoIP || q.proto == protoIP6 {
			return nil, fail("%q does not qualify ports: use tcp, udp, or nothing", protoNames[q.proto])
		}
		lo, hi, isRange, err := parsePorts(w)
		if err != nil {
			return nil, p.valueError(t, q, err)
		}
		if isRange && q.addr == addrPort {
			return nil, fail("%q is a range: use portrange %s", w, w)
		}
		if lo > hi {
			lo, hi = hi, lo // tcpdump swaps them too
		}
		return portNode{q: q, lo: lo, hi: hi}, nil
	}
	if q.proto == protoTCP || q.proto == protoUDP {
		return nil, fail("%q does not qualify addresses: use ip, ip6, or nothing", protoNames[q.proto])
	}
	pfx, hasLen, err := parseAddr(w)
	if err != nil {
		return nil, p.valueError(t, q, err)
	}
	if hasLen && q.addr != addrNet {
		return nil, fail("%q has a prefix length: use net %s", w, w)
	}
	if pfx.Masked() != pfx {
		return nil, fail("non-network bits set in %q (did you mean %s?)", w, pfx.Masked())
	}
	switch {
	case q.proto == protoIP && !pfx.Addr().Is4():
		return nil, fail("%q is an IPv6 address, and ip means IPv4: use ip6, or nothing", w)
	case q.proto == protoIP6 && !pfx.Addr().Is6():
		return nil, fail("%q is an IPv4 address, and ip6 means IPv6: use ip, or nothing", w)
	}
	return hostNode{q: q, pfx: pfx}, nil
}

// valueError explains a value that is not a number or address.
func (p *parser) valueError(t token, q qual, err error) error {
	msg := err.Error()
	kind := ErrSyntax
	if looksLikeName(t.text) {
		kind = ErrUnsupported
		if q.addr == addrPort || q.addr == addrPortRange {
			msg = fmt.Sprintf("port names are not looked up: give %q as a number", t.text)
		} else {
			msg = fmt.Sprintf("host names are not resolved: give %q as an IP address", t.text)
		}
	}
	return &SyntaxError{Expr: p.src, Col: t.col, Msg: msg, Kind: kind}
}

// parsePorts reads "N" or "N-M", decimal, 0 to 65535.
func parsePorts(w string) (lo, hi uint16, isRange bool, err error) {
	a, b, isRange := strings.Cut(w, "-")
	if lo, err = parsePort(a); err != nil {
		return 0, 0, false, err
	}
	hi = lo
	if isRange {
		if hi, err = parsePort(b); err != nil {
			return 0, 0, false, err
		}
	}
	return lo, hi, isRange, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 1 && s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a port number (decimal, 0 to 65535, no leading zero)", s)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %s is out of range (0 to 65535)", s)
	}
	return uint16(n), nil
}

// parseAddr reads an IPv4 or IPv6 address, with an optional /LEN.
func parseAddr(w string) (netip.Prefix, bool, error) {
	a, l, hasLen := strings.Cut(w, "/")
	addr, err := netip.ParseAddr(a)
	if err != nil || addr.Zone() != "" {
		if strings.Trim(a, "0123456789") == "" {
			return netip.Prefix{}, false, fmt.Errorf("%q is not an IP address: write all four parts (10.0.0.0/8, not 10)", w)
		}
		return netip.Prefix{}, false, fmt.Errorf("%q is not an IP address", w)
	}
	bits := addr.BitLen()
	if hasLen {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 || n > bits || l != strconv.Itoa(n) {
			return netip.Prefix{}, false, fmt.Errorf("bad prefix length in %q (0 to %d)", w, bits)
		}
		bits = n
	}
	return netip.PrefixFrom(addr, bits), hasLen, nil
}

// looksLikeName reports whether w would be a host or service name to
// tcpdump (it starts with a letter).
func looksLikeName(w string) bool {
	c := w[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
