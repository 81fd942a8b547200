package pcapfilter

import "strings"

// protoWord returns the protocol a word names.
func protoWord(w string) (proto, bool) {
	for i, n := range protoNames {
		if i > 0 && n == w {
			return proto(i), true
		}
	}
	return protoNone, false
}

// addrWord returns the address type a word names.
func addrWord(w string) (addrKind, bool) {
	for i, n := range addrNames {
		if i > 0 && n == w {
			return addrKind(i), true
		}
	}
	return addrDefault, false
}

// isKeyword reports whether w is a keyword of tcpdump's language, in the
// subset or not.
func isKeyword(w string) bool {
	if _, ok := protoWord(w); ok {
		return true
	}
	if _, ok := addrWord(w); ok {
		return true
	}
	return w == "src" || w == "dst" || unsupportedWords[w]
}

// unsupportedWords are tcpdump keywords outside the subset: refused with
// ErrUnsupported rather than taken for host names.
var unsupportedWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ether arp rarp sctp icmp icmp6 igmp igrp pim vrrp carp ah esp
		atalk aarp decnet lat sca moprc mopdl iso esis isis clnp stp ipx netbeui l1 l2 iih lsp snp csnp psnp
		link ppp slip fddi tr wlan radio gateway mask proto protochain broadcast multicast less greater len
		inbound outbound ifindex vlan mpls pppoed pppoes geneve vxlan batadv llc type subtype dir
		addr1 addr2 addr3 addr4 ra ta on ifname rnr rulenum reason rset ruleset srnr subrulenum action
		lane metac bcc oamf4ec oamf4sc sc ilmic oam oamf4 connectmsg metaconnect vpi vci
		fisu lssu msu hfisu hlssu hmsu sio opc dpc sls hsio hopc hdpc hsls`) {
		unsupportedWords[w] = true
	}
}
