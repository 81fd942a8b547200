package analyzer

import (
	"net/netip"
	"slices"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// chanState is the NTLM state of one channel (server or proxy auth) of an
// open connection.
type chanState struct {
	// cur is the handshake in progress (no final response yet).
	cur *handshake
	// authed is the handshake whose success authenticated the connection.
	authed *handshake
	// offer is the last request answered with a bare 401/407 offer: the
	// opening request of the next handshake.
	offer step
}

// reqInfo is what the analyzer remembers of a request until its response.
type reqInfo struct {
	msg      reqMsg
	kind     [numChannels]msgKind
	hs       [numChannels]*handshake
	authedBy [numChannels]*handshake // the handshake a plain request relies on
	client   string                  // real client named by a proxy header (interned)
	via      bool
	exch     int // index of its exchange record, -1 beyond maxExchanges
}

// reqMsg is what the analyzer reads of a request's Message after the
// Request call: the reassembler reuses the Message once the call returns.
type reqMsg struct {
	time       time.Time
	frame      int64
	index      int // Message.Index: which request of the connection (pair)
	serverGaps int // GapsBefore[ServerToClient]
}

func reqMsgOf(m *reassembly.Message) reqMsg {
	return reqMsg{time: m.Time, frame: m.Frame, index: m.Index, serverGaps: m.GapsBefore[reassembly.ServerToClient]}
}

// step is the request's handshake step (as stepOf).
func (r *reqMsg) step() step { return step{f: r.frame + 1, at: nanoOf(r.time)} }

// reqRec is what the analyzer keeps of a request of a closed connection
// for linking the legs of a proxy: its request line's hash, time and frame.
// It is the one thing kept per request, because a request of any client
// connection may turn out, in Finish, to be the one an authenticated
// upstream connection carried for another client. A connection keeps them
// encoded (appendReq): about 8 bytes each.
type reqRec struct {
	// line is the request line's hash, with its top bit set when the
	// request carried credentials.
	line  uint64
	at    nanotime
	frame int64
}

const reqAuthBit = 1 << 63

func (r reqRec) lineHash() uint64 { return r.line &^ reqAuthBit }
func (r reqRec) hasAuth() bool    { return r.line&reqAuthBit != 0 }
func (r reqRec) time() time.Time  { return r.at.time() }

// reauth is a 401/407 on an authenticated connection.
type reauth struct {
	frame   int64
	time    time.Time
	proxy   bool
	via     bool
	persist bool // the authenticating handshake said Persistent-Auth: false
	hs      *handshake
}

// sharedUse is an authenticated request of another real client.
type sharedUse struct {
	frame  int64
	time   time.Time
	client string
	hs     *handshake
}

// tokenSeen is a Kerberos token seen on the connection (for leg linking).
type tokenSeen struct {
	hash    digest
	time    time.Time
	request bool
}

// statusCount counts the responses of one status code.
type statusCount struct {
	status, n int32
}

// peer is a client address as the connections of one client share it:
// the address and its string form (unmapped).
type peer struct {
	addr netip.Addr
	ip   string
}

// connState is the analyzer's record of one connection. While the
// connection is open, live holds the state machines and the requests not
// answered yet; ConnectionClosed drops it, so that a closed connection keeps
// only what Finish and the report need: this struct (160 bytes; addresses
// are interned), its requests encoded (reqs), and, in x, what
// authentication left: the close frames its handshakes' causes read, its
// exchanges encoded, and rarer things (re-authentications, shared uses,
// ...).
type connState struct {
	client *peer           // interned
	server *netip.AddrPort // interned
	hs     []*handshake
	// reqs holds a reqRec per request, encoded (see appendReq; the
	// connection appends to live.reqs until it closes).
	reqs string

	live *liveConn
	x    *connExtra

	start, end       nanotime
	id, file, stream int32
	// capture is the first file of file's chain (the files that follow
	// each other in time, a ring buffer's: reassembly.FrameLocator), file
	// itself when none precedes it; set by the diagnosis. Connections of
	// one capture compare frames, and are one vantage point.
	capture int32

	requests, responses int32
	authRequests        int32
	offers, challenges  int32
	// statuses counts the responses per status code (more in rare).
	statuses [3]statusCount

	clientPort uint16
	ended      reassembly.EndReason
	sawSYN     bool
	decrypted  bool                // the connection was TLS, decrypted with a key log
	tunnel     reassembly.Protocol // what a CONNECT tunnel carried
	closed     bool
	http       bool
	proxied    bool
	// authState is the connection's authentication state at its end,
	// decided when it closes (an index of stateNames).
	authState uint8
	// upstream is the connection's leg (set in Finish): LegUpstream when
	// set, else LegClient.
	upstream bool
}

// liveConn is the state of an open connection.
type liveConn struct {
	// owner is the Analyzer whose events the connection gets: its state
	// in reassembly.Conn.HandlerState is taken only by its owner.
	owner *Analyzer
	ch    [numChannels]chanState
	// queue holds the requests not answered yet, in order.
	queue []reqInfo
	// exchanges are recorded for every request while the connection is
	// open; ConnectionClosed keeps them only when one carried
	// authentication (see compactExchanges).
	exchanges        exchList
	exchangesOmitted int
	// exchangesAuth says that a record has withAuth set, which spares
	// compactExchanges reading the records of a connection without.
	exchangesAuth bool
	// reqs are the requests encoded so far, prevReq the last one, which
	// the next is encoded against.
	reqs    []byte
	prevReq reqRec
}

// connExtra holds what only connections that carried authentication (or
// something rarer) have; nil on the others (most plain HTTP connections).
type connExtra struct {
	// closeAt is the first frame in which each side (0 client, 1 server)
	// sent FIN or RST, 0 when it did not; closeWhen its time.
	closeAt   [2]int64
	closeWhen [2]nanotime
	// exchanges are the exchange records, encoded (see encodeExchanges).
	exchanges                       string
	exchangeCount, exchangesOmitted int32
	rare                            *connRare
}

// connRare holds what few connections have.
type connRare struct {
	realClients  []string
	reauths      []reauth
	shared       []sharedUse
	kerbTokens   []tokenSeen
	moreStatuses []statusCount // beyond the first three status codes
	// incompleteMessages counts requests and responses whose body was
	// cut; kerberos the requests that carried Kerberos.
	incompleteMessages, kerberos int32
	// gaps counts the gaps in each direction (0 client to server).
	gaps [2]int32
	// parts lists the later files the connection went on into
	// (reassembly.Conn.Parts: a ring buffer's files).
	parts []reassembly.ConnPart

	// Set in Finish.
	linked map[*connState]bool
	// findings holds the codes of the connection's findings, sorted,
	// without repeats (a connection has a few at most).
	findings []string
}

// noExtra and noRare stand for a missing connExtra and connRare when
// reading; never written.
var (
	noExtra connExtra
	noRare  connRare
)

// ext returns the connection's extra state for reading.
func (cs *connState) ext() *connExtra {
	if cs.x == nil {
		return &noExtra
	}
	return cs.x
}

// extra returns the connection's extra state for writing, allocating it.
func (cs *connState) extra() *connExtra {
	if cs.x == nil {
		cs.x = &connExtra{}
	}
	return cs.x
}

// rare returns the connection's rare state for reading.
func (cs *connState) rare() *connRare {
	if cs.x == nil || cs.x.rare == nil {
		return &noRare
	}
	return cs.x.rare
}

// rareRW returns the connection's rare state for writing, allocating it.
func (cs *connState) rareRW() *connRare {
	x := cs.extra()
	if x.rare == nil {
		x.rare = &connRare{}
	}
	return x.rare
}

// leg names the connection's leg.
func (cs *connState) leg() string {
	if cs.upstream {
		return LegUpstream
	}
	return LegClient
}

// clientIP is the client's address as text (unmapped).
func (cs *connState) clientIP() string { return cs.client.ip }

// clientAddr is the client's address and port.
func (cs *connState) clientAddr() netip.AddrPort {
	return netip.AddrPortFrom(cs.client.addr, cs.clientPort)
}

// serverAddr is the server's address and port.
func (cs *connState) serverAddr() netip.AddrPort { return *cs.server }

// newConnState returns the state of a connection seen for the first time.
func (a *Analyzer) newConnState(c *reassembly.Conn) *connState {
	cs := a.conns.alloc(connSlabLen)
	cs.live = a.newLive()
	cs.update(c, a.in)
	return cs
}

// maxFreeLive bounds the live states kept for reuse, and maxReusedReqs and
// maxReusedQueue the lists a reused one may bring (a long keep-alive
// connection's are not worth keeping).
const (
	maxFreeLive    = 64
	maxReusedReqs  = 4096
	maxReusedQueue = 256
)

// newLive returns an empty live state: one a closed connection left (its
// lists keep their capacity, which spares a new connection growing them
// again), or a new one.
func (a *Analyzer) newLive() *liveConn {
	if lv, ok := a.free.Get(); ok {
		lv.owner = a
		return lv
	}
	return &liveConn{owner: a}
}

// recycle empties the live state of a closed connection for newLive, and
// gives its exchange chunks back to the pool.
func (a *Analyzer) recycle(lv *liveConn) {
	lv.exchanges.release(&a.chunks) // even when lv itself is not kept
	if a.free.Len() >= maxFreeLive || cap(lv.reqs) > maxReusedReqs || cap(lv.queue) > maxReusedQueue {
		return
	}
	q := lv.queue[:0]
	clear(q[:cap(q)]) // no handshake stays reachable from here
	*lv = liveConn{queue: q, exchanges: lv.exchanges, reqs: lv.reqs[:0]}
	a.free.Put(lv, maxFreeLive)
}

// update copies the reassembler's view of the connection: all of it when
// the connection is first seen and when it closes; touch copies, on every
// event in between, what may have changed since.
func (cs *connState) update(c *reassembly.Conn, in *interner) {
	cs.id, cs.file, cs.stream = int32(c.ID), int32(c.File), int32(c.Stream)
	if cs.client == nil || cs.client.addr != c.Client.Addr() {
		cs.client = in.peer(c.Client.Addr())
	}
	cs.clientPort = c.Client.Port()
	if cs.server == nil || *cs.server != c.Server {
		cs.server = in.addrPort(c.Server)
	}
	cs.start = nanoOf(c.Start)
	cs.touch(c)
}

// touch copies what may have changed in c since the connection's last
// event: its last packet's time, gaps, end, FIN and RST frames, and
// decryption. Its identity, addresses and start are fixed before its first
// event (reassembly.Conn says so), and read again only when it closes.
func (cs *connState) touch(c *reassembly.Conn) {
	cs.end = nanoOf(c.End)
	cs.sawSYN = c.SawSYN
	cs.decrypted = c.Decrypted
	cs.tunnel = c.Tunnel
	cs.ended = c.Ended
	// Gaps only grow: a connection without any (nearly all) has nothing
	// to compare.
	if c.Gaps != [2]int{} {
		if g := [2]int32{int32(c.Gaps[0]), int32(c.Gaps[1])}; g != cs.rare().gaps {
			cs.rareRW().gaps = g
		}
	}
	if len(c.Parts) != len(cs.rare().parts) { // parts only grow
		cs.rareRW().parts = slices.Clone(c.Parts)
	}
	if cs.x != nil {
		for d := range cs.x.closeAt {
			cs.x.closeAt[d] = firstClose(c.FINFrame[d], c.RSTFrame[d])
			cs.x.closeWhen[d] = nanoOf(c.CloseTime[d])
		}
	}
}

// firstClose returns the earlier of a FIN and an RST frame, either 0 when
// not sent.
func firstClose(fin, rst int64) int64 {
	switch {
	case fin == 0:
		return rst
	case rst == 0 || fin < rst:
		return fin
	}
	return rst
}

// closeFrame returns the first frame in which side d (0 client, 1 server)
// sent FIN or RST, 0 when it did not.
func (cs *connState) closeFrame(d int) int64 { return cs.ext().closeAt[d] }

// addRealClient remembers a proxy-named client (a few distinct ones).
func (cs *connState) addRealClient(c string) {
	r := cs.rareRW()
	for _, o := range r.realClients {
		if o == c {
			return
		}
	}
	if len(r.realClients) < 16 {
		r.realClients = append(r.realClients, c)
	}
}

// countStatus counts a response's status code.
func (cs *connState) countStatus(status int) {
	for i := range cs.statuses {
		switch sc := &cs.statuses[i]; {
		case int(sc.status) == status:
			sc.n++
			return
		case sc.n == 0:
			*sc = statusCount{int32(status), 1}
			return
		}
	}
	r := cs.rareRW()
	for i := range r.moreStatuses {
		if int(r.moreStatuses[i].status) == status {
			r.moreStatuses[i].n++
			return
		}
	}
	r.moreStatuses = append(r.moreStatuses, statusCount{int32(status), 1})
}

// addReq records a request for linking legs (see appendReq); line is its
// lineHash.
func (cs *connState) addReq(in *internCache, m *reassembly.Message, line uint64, hasAuth bool) {
	r := reqRec{line: line &^ reqAuthBit, at: nanoOf(m.Time), frame: m.Frame}
	if hasAuth {
		r.line |= reqAuthBit
	}
	lv := cs.live
	lv.reqs = appendReq(lv.reqs, in, r, lv.prevReq)
	lv.prevReq = r
}

// lineHash hashes a request line for linking requests across legs
// (FNV-1a of "METHOD target", without allocating).
func lineHash(m *reassembly.Message) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime
		}
	}
	add(m.Method)
	add(" ")
	add(m.Target)
	return h
}

// close ends the connection: handshakes still open get a provisional
// outcome (correlation may still merge them into a split handshake), its
// final authentication state is decided, and the per-request state is
// dropped: the live state goes, exchanges are compacted, and nothing keeps
// a reassembly.Message.
func (cs *connState) close(c *reassembly.Conn, a *Analyzer) {
	if len(cs.hs) > 0 {
		cs.extra() // fin and rst decide causes
	}
	cs.update(c, a.in)
	cs.settle()
	lv := cs.live
	cs.compactExchanges(&a.ic, &a.scratch)
	cs.hs = clipped(cs.hs)
	cs.reqs = string(lv.reqs)
	if r := cs.x; r != nil && r.rare != nil {
		r.rare.moreStatuses = clipped(r.rare.moreStatuses)
	}
	cs.live = nil
	a.recycle(lv)
}

// settle decides what close decides about authentication: the outcome of
// the handshakes still open and the connection's final authentication
// state. It reads the live state and leaves it, so that a snapshot can
// settle a copy (snapshot.go).
func (cs *connState) settle() {
	cs.closed = true
	lv := cs.live
	for ch := range lv.ch {
		if h := lv.ch[ch].cur; h != nil {
			switch {
			case h.t3.ok() && (cs.ended == reassembly.EndFIN || cs.ended == reassembly.EndRST) &&
				cs.rare().gaps[1] <= h.serverGapsAtT3():
				// A Type 3 the connection closed (or reset) on before
				// any answer: the handshake never finished. Who closed
				// first says why (causes.go).
				h.outcomeL = labelAbandoned
			case h.t3.ok():
				// The capture lost sight of the answer: a gap in the
				// server's direction after the Type 3 may hold it, or
				// the connection went on beyond the capture (its end,
				// the table's eviction, idleness, a SYN that reused the
				// 4-tuple without a FIN or RST seen).
				h.outcomeL = labelIncomplete
			case cs.ended == reassembly.EndCapture || cs.ended == reassembly.EndEvicted || cs.ended == reassembly.EndOpen:
				// The rest of the handshake may still come.
				h.outcomeL = labelIncomplete
			default:
				h.outcomeL = labelAbandoned
			}
		}
	}
	for _, h := range cs.hs {
		if h.outcomeL == noLabel {
			h.outcomeL = labelIncomplete
		}
	}
	cs.authState = cs.stateAtEnd()
}

// clipped returns s without spare capacity, so that a closed connection
// does not keep append's headroom.
func clipped[T any](s []T) []T {
	if cap(s) == len(s) {
		return s
	}
	return append([]T(nil), s...)
}

// stateNames are the State* constants, indexed by connState.authState.
var stateNames = [...]string{StateNone, StateAuthenticated, StateMidHandshake, StateUnauthenticated, StateKerberos}

// stateAtEnd is the connection's authentication state at its end (an index
// of stateNames).
func (cs *connState) stateAtEnd() uint8 {
	lv := cs.live
	for ch := range lv.ch {
		if lv.ch[ch].authed != nil {
			return 1
		}
	}
	for ch := range lv.ch {
		if lv.ch[ch].cur != nil {
			return 2
		}
	}
	if len(cs.hs) > 0 {
		return 3
	}
	if cs.rare().kerberos > 0 {
		return 4
	}
	return 0
}
