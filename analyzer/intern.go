package analyzer

import (
	"net/netip"
	"strings"
	"sync"
)

// interner shares the strings that repeat across connections, handshakes
// and exchanges (client addresses, user and domain names, workstations,
// server identities, request methods and targets), and copies each one out
// of the message it came from: a message's strings point into a buffer
// that the reassembler reuses for a later message once the event returns. The table is bounded (emptied when full): strings already
// handed out stay valid, later ones are shared anew.
type interner struct {
	// mu makes the interner safe for the shards of a sharded run
	// (Analyzer.Shard), which share it; the methods without "Locked"
	// take it.
	mu    sync.Mutex
	m     map[string]string
	addrs map[netip.Addr]string
	names map[t3Key]*t3Names
	peers map[netip.Addr]*peer
	aps   map[netip.AddrPort]*netip.AddrPort
	// lines is the table of request lines that the exchange records of
	// closed connections index (lineID); unlike the maps it only grows,
	// since records keep their indexes. lineIDs finds a line in it
	// (bounded like the others: a line seen again after it was emptied
	// takes a second index).
	lines   []reqLine
	lineIDs map[reqLine]lineID
	// hashes is the table of request-line hashes that encoded requests
	// index (appendReq), hashIDs finds one in it: as lines and lineIDs.
	hashes  []uint64
	hashIDs map[uint64]uint32
}

// maxInterned bounds the table.
const maxInterned = 1 << 15

func newInterner() *interner {
	return &interner{m: map[string]string{}, addrs: map[netip.Addr]string{}, names: map[t3Key]*t3Names{},
		peers: map[netip.Addr]*peer{}, aps: map[netip.AddrPort]*netip.AddrPort{}, lineIDs: map[reqLine]lineID{},
		hashIDs: map[uint64]uint32{}}
}

// addrLocked returns the shared string form of an address (unmapped),
// without formatting it again for every connection of the same client;
// in.mu is held.
func (in *interner) addrLocked(a netip.Addr) string {
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

// lineLocked is line, with in.mu held.
func (in *interner) lineLocked(method, target string) lineID {
	if id, ok := in.lineIDs[reqLine{method, target}]; ok {
		return id
	}
	if len(in.lineIDs) >= maxInterned {
		clear(in.lineIDs)
	}
	l := reqLine{in.strLocked(method), in.strLocked(target)}
	id := lineID(len(in.lines))
	in.lines = append(in.lines, l)
	in.lineIDs[l] = id
	return id
}

// hashLocked is hash, with in.mu held.
func (in *interner) hashLocked(h uint64) uint32 {
	if id, ok := in.hashIDs[h]; ok {
		return id
	}
	if len(in.hashIDs) >= maxInterned {
		clear(in.hashIDs)
	}
	id := uint32(len(in.hashes))
	in.hashes = append(in.hashes, h)
	in.hashIDs[h] = id
	return id
}

// peerLocked is peer, with in.mu held.
func (in *interner) peerLocked(a netip.Addr) *peer {
	if p, ok := in.peers[a]; ok {
		return p
	}
	if len(in.peers) >= maxInterned {
		clear(in.peers)
	}
	p := &peer{addr: a, ip: in.addrLocked(a)}
	in.peers[a] = p
	return p
}

// addrPortLocked is addrPort, with in.mu held.
func (in *interner) addrPortLocked(ap netip.AddrPort) *netip.AddrPort {
	if p, ok := in.aps[ap]; ok {
		return p
	}
	if len(in.aps) >= maxInterned {
		clear(in.aps)
	}
	p := new(netip.AddrPort) // not &ap: that would move ap to the heap on every call
	*p = ap
	in.aps[ap] = p
	return p
}

// t3NamesLocked is t3Names, with in.mu held.
func (in *interner) t3NamesLocked(k t3Key) *t3Names {
	if n, ok := in.names[k]; ok {
		return n
	}
	if len(in.names) >= maxInterned {
		clear(in.names)
	}
	k.user, k.domain, k.workstation, k.echoIdentity = in.strLocked(k.user), in.strLocked(k.domain), in.strLocked(k.workstation), in.strLocked(k.echoIdentity)
	n := newT3Names(k)
	n.name, n.key = in.strLocked(n.name), in.strLocked(n.key) // a user named with several workstations or servers
	in.names[k] = n
	return n
}

// strLocked is str, with in.mu held.
func (in *interner) strLocked(s string) string {
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

// line returns the index of a request line in the table of lines, and the
// line as the table holds it (its strings interned).
func (in *interner) line(method, target string) (lineID, reqLine) {
	in.mu.Lock()
	defer in.mu.Unlock()
	id := in.lineLocked(method, target)
	return id, in.lines[id]
}

// hash returns the index of a request line's hash in the table of hashes.
func (in *interner) hash(h uint64) uint32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.hashLocked(h)
}

// peer returns the shared form of a client address.
func (in *interner) peer(a netip.Addr) *peer {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.peerLocked(a)
}

// addrPort returns the shared copy of a server address.
func (in *interner) addrPort(ap netip.AddrPort) *netip.AddrPort {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.addrPortLocked(ap)
}

// t3Names returns the shared names of a Type 3 (its strings interned).
func (in *interner) t3Names(k t3Key) *t3Names {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.t3NamesLocked(k)
}

// str returns s's shared copy.
func (in *interner) str(s string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.strLocked(s)
}

// internCache is an Analyzer's own front to the interner it shares with
// the other shards of a run: it remembers what the interner returned for
// the strings and request-line hashes that come with every request, and
// the request lines of the exchanges a closing connection keeps, so that
// looking them up again takes no lock (the shared one is taken on every
// miss, and the workers of a sharded run would otherwise contend for it
// several times per request). What it returns is the interner's: the same
// shared strings, and indexes into the same tables (which only grow, so an
// index it remembers stays valid after the interner emptied its own map).
// It is bounded like the interner and used under its Analyzer's lock.
//
// Type 3 names go to the interner directly: they come once per handshake,
// not with every request, and a copy of the interner's table of them here
// cost more than the lock it spared (a 72-byte key per name: on the 2 GB
// benchmark capture, 11 MB of tables to spare 84,000 uncontended locks).
type internCache struct {
	in     *interner
	strs   map[string]string
	hashes map[uint64]uint32
	lines  map[reqLine]lineID
	// byHash finds a request's interned method and target by its
	// lineHash (see requestLine).
	byHash map[uint64]reqLine
}

// str is interner.str.
func (c *internCache) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := c.strs[s]; ok {
		return v
	}
	v := c.in.str(s)
	if c.strs == nil || len(c.strs) >= maxInterned {
		c.strs = make(map[string]string)
	}
	c.strs[v] = v
	return v
}

// requestLine returns a request's method and target as str interns them,
// found by the request line's hash h (lineHash, which every request
// computes anyway): one lookup of a number rather than two of strings. A
// line found is checked against method and target, so that two lines of
// one hash cost a miss, not a wrong answer.
func (c *internCache) requestLine(h uint64, method, target string) reqLine {
	if l, ok := c.byHash[h]; ok && l.method == method && l.target == target {
		return l
	}
	l := reqLine{c.str(method), c.str(target)}
	if c.byHash == nil || len(c.byHash) >= maxInterned {
		c.byHash = make(map[uint64]reqLine)
	}
	c.byHash[h] = l
	return l
}

// hash is interner.hash.
func (c *internCache) hash(h uint64) uint32 {
	if id, ok := c.hashes[h]; ok {
		return id
	}
	id := c.in.hash(h)
	if c.hashes == nil || len(c.hashes) >= maxInterned {
		c.hashes = make(map[uint64]uint32)
	}
	c.hashes[h] = id
	return id
}

// line is interner.line. Closing connections look up the lines of their
// exchanges here rather than under the shared lock, one by one.
func (c *internCache) line(method, target string) lineID {
	if id, ok := c.lines[reqLine{method, target}]; ok {
		return id
	}
	id, l := c.in.line(method, target)
	if c.lines == nil || len(c.lines) >= maxInterned {
		c.lines = make(map[reqLine]lineID)
	}
	c.lines[l] = id // keyed by the interned strings, not the caller's
	return id
}

// t3Names is interner.t3Names (see internCache).
func (c *internCache) t3Names(k t3Key) *t3Names { return c.in.t3Names(k) }
