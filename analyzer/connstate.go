package analyzer

import (
	"net/netip"
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
	msg      *reassembly.Message
	kind     [numChannels]msgKind
	hs       [numChannels]*handshake
	authedBy [numChannels]*handshake // the handshake a plain request relies on
	client   string                  // real client named by a proxy header (interned)
	via      bool
	exch     int // index of its exchange record, -1 beyond maxExchanges
}

// reqRec is the compact record of a request kept for linking the legs of
// a proxy: its request line's hash, time and frame. It is the one thing the
// analyzer keeps per request of a closed connection (24 bytes), because a
// request of any client connection may turn out, in Finish, to be the one
// an authenticated upstream connection carried for another client.
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

// connState is the analyzer's record of one connection. While the
// connection is open, live holds the state machines and the requests not
// answered yet; ConnectionClosed drops it, so that a closed connection keeps
// only what Finish and the report need: a few hundred bytes, one reqRec per
// request, and (in extra) what authentication left: handshakes, exchanges,
// re-authentications. Strings are interned.
type connState struct {
	id, file, stream int
	client, server   netip.AddrPort
	clientIP         string // interned
	start, end       nanotime
	gaps             [2]int32
	ended            reassembly.EndReason
	sawSYN           bool
	decrypted        bool // the connection was TLS, decrypted with a key log
	closed           bool
	http             bool
	proxied          bool
	// authState is the connection's authentication state at its end,
	// decided when it closes (an index of stateNames).
	authState uint8

	requests, responses int32
	incompleteMessages  int32 // requests and responses whose body was cut
	authRequests        int32
	offers, challenges  int32
	kerberos            int32
	statuses            []statusCount

	hs   []*handshake
	reqs []reqRec

	live *liveConn
	x    *connExtra

	// Set in Finish.
	leg      string
	linked   map[*connState]bool // allocated when linked
	findings map[string]bool     // allocated on the first finding
}

// liveConn is the state of an open connection.
type liveConn struct {
	ch [numChannels]chanState
	// queue holds the requests not answered yet, in order.
	queue []reqInfo
	// respGaps is the server-side gap count at the last response.
	respGaps int
	// exchanges are recorded for every request while the connection is
	// open; ConnectionClosed keeps them only when one carried
	// authentication (see compactExchanges).
	exchanges        []exchRec
	exchangesOmitted int
}

// connExtra holds what only some connections have; nil on a connection
// without any (most plain HTTP connections).
type connExtra struct {
	fin, rst         [2]int64
	realClients      []string
	reauths          []reauth
	shared           []sharedUse
	kerbTokens       []tokenSeen
	exchanges        []exchRec
	exchangesOmitted int
}

// noExtra stands for a missing connExtra when reading; never written.
var noExtra connExtra

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

func newConnState(c *reassembly.Conn, in *interner) *connState {
	cs := &connState{leg: LegClient, live: &liveConn{}}
	cs.update(c)
	cs.clientIP = in.addr(c.Client.Addr())
	return cs
}

// update copies the reassembler's view of the connection.
func (cs *connState) update(c *reassembly.Conn) {
	cs.id, cs.file, cs.stream = c.ID, c.File, c.Stream
	cs.client, cs.server = c.Client, c.Server
	cs.start, cs.end = nanoOf(c.Start), nanoOf(c.End)
	cs.sawSYN = c.SawSYN
	cs.decrypted = c.Decrypted
	cs.gaps = [2]int32{int32(c.Gaps[0]), int32(c.Gaps[1])}
	cs.ended = c.Ended
	if cs.x != nil {
		cs.x.fin, cs.x.rst = c.FINFrame, c.RSTFrame
	}
}

// closeFrame returns the first frame in which side d (0 client, 1 server)
// sent FIN or RST, 0 when it did not.
func (cs *connState) closeFrame(d int) int64 {
	f, r := cs.ext().fin[d], cs.ext().rst[d]
	switch {
	case f == 0:
		return r
	case r == 0 || f < r:
		return f
	}
	return r
}

// addRealClient remembers a proxy-named client (a few distinct ones).
func (cs *connState) addRealClient(c string) {
	x := cs.extra()
	for _, o := range x.realClients {
		if o == c {
			return
		}
	}
	if len(x.realClients) < 16 {
		x.realClients = append(x.realClients, c)
	}
}

// countStatus counts a response's status code.
func (cs *connState) countStatus(status int) {
	for i := range cs.statuses {
		if int(cs.statuses[i].status) == status {
			cs.statuses[i].n++
			return
		}
	}
	cs.statuses = append(cs.statuses, statusCount{int32(status), 1})
}

// addReq records a request for linking legs.
func (cs *connState) addReq(m *reassembly.Message, hasAuth bool) {
	r := reqRec{line: lineHash(m) &^ reqAuthBit, at: nanoOf(m.Time), frame: m.Frame}
	if hasAuth {
		r.line |= reqAuthBit
	}
	cs.reqs = append(cs.reqs, r)
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
func (cs *connState) close(c *reassembly.Conn) {
	if len(cs.hs) > 0 {
		cs.extra() // fin and rst decide causes
	}
	cs.update(c)
	cs.closed = true
	lv := cs.live
	for ch := range lv.ch {
		if h := lv.ch[ch].cur; h != nil {
			switch {
			case h.t3.ok:
				h.outcome = OutcomeIncomplete
			case cs.ended == reassembly.EndCapture || cs.ended == reassembly.EndEvicted || cs.ended == reassembly.EndOpen:
				h.outcome = OutcomeIncomplete
			default:
				h.outcome = OutcomeAbandoned
			}
		}
	}
	for _, h := range cs.hs {
		if h.outcome == "" {
			h.outcome = OutcomeIncomplete
		}
	}
	cs.authState = cs.stateAtEnd()
	cs.compactExchanges()
	cs.hs = clipped(cs.hs)
	cs.reqs = clipped(cs.reqs)
	cs.statuses = clipped(cs.statuses)
	cs.live = nil
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
	if cs.kerberos > 0 {
		return 4
	}
	return 0
}
