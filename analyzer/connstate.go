package analyzer

import (
	"hash/fnv"
	"net/netip"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// chanState is the NTLM state of one channel (server or proxy auth) of a
// connection.
type chanState struct {
	// cur is the handshake in progress (no final response yet).
	cur *handshake
	// authed is the handshake whose success authenticated the connection.
	authed *handshake
	// offer is the last request answered with a bare 401/407 offer: the
	// opening request of the next handshake.
	offer    step
	kerberos bool
}

// reqInfo is what the analyzer remembers of a request until its response.
type reqInfo struct {
	msg       *reassembly.Message
	auth      [numChannels]authMsg
	hs        [numChannels]*handshake
	authedBy  [numChannels]*handshake // the handshake a plain request relies on
	client    string                  // real client named by a proxy header
	proxied   bool
	wantClose bool
	exch      *exchRec // its exchange record, nil beyond maxExchanges
}

// reqRec is the compact record of a request kept for linking the legs of a
// proxy (request line hash and time).
type reqRec struct {
	line    uint64
	time    time.Time
	frame   int64
	hasAuth bool
}

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
	hash    [32]byte
	time    time.Time
	request bool
}

// connState is the analyzer's record of one connection. While the
// connection is open it holds the per-request state; ConnectionClosed
// compacts it to what the report needs.
type connState struct {
	id, file, stream int
	client, server   netip.AddrPort
	start, end       time.Time
	sawSYN           bool
	gaps             [2]int
	fin, rst         [2]int64
	ended            reassembly.EndReason
	closed           bool
	http             bool

	requests, responses int
	incompleteMessages  int // requests and responses whose body was cut
	statuses            map[int]int
	authRequests        int
	offers, challenges  int
	kerberos            int
	proxied             bool
	realClients         []string

	ch [numChannels]chanState
	hs []*handshake
	// queue holds the requests not answered yet, in order.
	queue []*reqInfo
	// respGaps is the server-side gap count at the last response.
	respGaps   int
	reqs       []reqRec
	reauths    []reauth
	shared     []sharedUse
	kerbTokens []tokenSeen

	// Set in Finish.
	exchanges        []*exchRec
	exchangesOmitted int

	leg      string
	linked   map[*connState]bool
	findings map[string]bool
}

func newConnState(c *reassembly.Conn) *connState {
	cs := &connState{
		statuses: map[int]int{},
		leg:      LegClient,
	}
	cs.update(c)
	return cs
}

// update copies the reassembler's view of the connection.
func (cs *connState) update(c *reassembly.Conn) {
	cs.id, cs.file, cs.stream = c.ID, c.File, c.Stream
	cs.client, cs.server = c.Client, c.Server
	cs.start, cs.end = c.Start, c.End
	cs.sawSYN = c.SawSYN
	cs.gaps = c.Gaps
	cs.fin, cs.rst = c.FINFrame, c.RSTFrame
	cs.ended = c.Ended
}

// clientKey names the client for correlation: the real client behind a
// proxy when one was named, else the TCP client's IP.
func (cs *connState) clientIP() string {
	return cs.client.Addr().Unmap().String()
}

// closeFrame returns the first frame in which side d (0 client, 1 server)
// sent FIN or RST, 0 when it did not.
func (cs *connState) closeFrame(d int) int64 {
	f, r := cs.fin[d], cs.rst[d]
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
	for _, x := range cs.realClients {
		if x == c {
			return
		}
	}
	if len(cs.realClients) < 16 {
		cs.realClients = append(cs.realClients, c)
	}
}

// lineHash hashes a request line for linking requests across legs.
func lineHash(m *reassembly.Message) uint64 {
	h := fnv.New64a()
	h.Write([]byte(m.Method))
	h.Write([]byte{' '})
	h.Write([]byte(m.Target))
	return h.Sum64()
}

// close ends the connection: handshakes still open get a provisional
// outcome (correlation may still merge them into a split handshake), and
// the per-request state is dropped.
func (cs *connState) close(c *reassembly.Conn) {
	cs.update(c)
	cs.closed = true
	for ch := range cs.ch {
		st := &cs.ch[ch]
		if h := st.cur; h != nil {
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
	cs.queue = nil
}

// state is the connection's authentication state at its end.
func (cs *connState) state() string {
	for ch := range cs.ch {
		if cs.ch[ch].authed != nil {
			return StateAuthenticated
		}
	}
	for ch := range cs.ch {
		if cs.ch[ch].cur != nil {
			return StateMidHandshake
		}
	}
	if len(cs.hs) > 0 {
		return StateUnauthenticated
	}
	if cs.kerberos > 0 {
		return StateKerberos
	}
	return StateNone
}
