package analyzer

import (
	"net/netip"
	"strings"
)

// interner shares the strings that repeat across connections, handshakes
// and exchanges (client addresses, user and domain names, workstations,
// server identities, request methods and targets), and copies each one out
// of the message it came from: a string that shares a message's header
// block would keep the whole block alive for as long as the analyzer keeps
// the string. The table is bounded (emptied when full): strings already
// handed out stay valid, later ones are shared anew.
type interner struct {
	m     map[string]string
	addrs map[netip.Addr]string
}

// maxInterned bounds the table.
const maxInterned = 1 << 15

func newInterner() *interner {
	return &interner{m: map[string]string{}, addrs: map[netip.Addr]string{}}
}

// addr returns the shared string form of an address (unmapped), without
// formatting it again for every connection of the same client.
func (in *interner) addr(a netip.Addr) string {
	a = a.Unmap()
	if s, ok := in.addrs[a]; ok {
		return s
	}
	if len(in.addrs) >= maxInterned {
		clear(in.addrs)
	}
	s := a.String()
	in.addrs[a] = s
	return s
}

// str returns s's shared copy.
func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	if len(in.m) >= maxInterned {
		clear(in.m)
	}
	v := strings.Clone(s)
	in.m[v] = v
	return v
}
