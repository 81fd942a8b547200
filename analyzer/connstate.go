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
	statuses            map[int]int
	authRequests        int
	offers, challenges  int
	kerberos            int
	proxied             bool
	realClients         []string

	ch         [numChannels]chanState
	hs         []*handshake
	pending    map[*reassembly.Message]*reqInfo
	reqs       []reqRec
	reauths    []reauth
	shared     []sharedUse
	kerbTokens []tokenSeen

	// Set in Finish.
	leg      string
	linked   map[*connState]bool
	findings map[string]bool
}

func newConnState(c *reassembly.Conn) *connState {
	cs := &connState{
		statuses: map[int]int{},
		pending:  map[*reassembly.Message]*reqInfo{},
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

// request runs the state machines on a request.
func (cs *connState) request(hs hasher, m *reassembly.Message) {
	cs.requests++
	info := &reqInfo{msg: m, client: realClient(m), proxied: isProxied(m), wantClose: wantsClose(m)}
	if info.client != "" {
		cs.addRealClient(info.client)
	}
	if info.proxied {
		cs.proxied = true
	}
	hasAuth := false
	for ch := chServer; ch < numChannels; ch++ {
		a := hs.parseCredentials(m.Values(credHeader[ch]))
		info.auth[ch] = a
		if a.kind != kindNone {
			hasAuth = true
		}
		cs.requestOn(ch, info, &a)
	}
	cs.reqs = append(cs.reqs, reqRec{line: lineHash(m), time: m.Time, frame: m.Frame, hasAuth: hasAuth})
	cs.pending[m] = info
}

// requestOn advances one channel's state machine on a request.
func (cs *connState) requestOn(ch channel, info *reqInfo, a *authMsg) {
	st := &cs.ch[ch]
	m := info.msg
	switch a.kind {
	case kindType1:
		if st.cur != nil {
			cs.interrupt(st.cur, fRestarted)
		}
		h := cs.newHandshake(ch, info, a)
		h.t1 = stepOf(m)
		h.requests++
		if st.offer.ok {
			h.open = st.offer
			h.requests++
			st.offer = step{}
		}
		if info.wantClose {
			h.flags |= fClientAskedClose
		}
		st.cur, st.authed = h, nil
		info.hs[ch] = h
	case kindType3:
		h := st.cur
		if h == nil || h.t3.ok {
			h = cs.newHandshake(ch, info, a)
			st.cur = h
		}
		if h.t1.ok && !h.t2.ok {
			h.flags |= fResponseLost
		}
		h.setType3(a, m)
		st.authed = nil
		info.hs[ch] = h
	case kindKerberos:
		cs.kerberos++
		cs.kerbTokens = append(cs.kerbTokens, tokenSeen{hash: a.tokenHash, time: m.Time, request: true})
		st.kerberos = true
	case kindNone:
		if h := st.cur; h != nil && h.t2.ok && !h.t3.ok {
			cs.interrupt(h, fMovedOn)
		}
		if st.authed != nil {
			info.authedBy[ch] = st.authed
		}
	}
}

// newHandshake starts a handshake on the connection.
func (cs *connState) newHandshake(ch channel, info *reqInfo, a *authMsg) *handshake {
	h := &handshake{proxy: ch == chProxy, conn: cs, t3conn: cs, scheme: a.scheme, spnego: a.spnego}
	h.client = cs.clientIP()
	if info != nil && info.client != "" {
		h.client = info.client
	}
	cs.hs = append(cs.hs, h)
	return h
}

// interrupt ends a handshake in progress that the client left (a new Type 1,
// a request without credentials).
func (cs *connState) interrupt(h *handshake, why hsFlag) {
	h.flags |= why
	if h.t3.ok && !h.final.ok {
		h.outcome = OutcomeIncomplete // its response was not captured
	} else if h.outcome == "" {
		h.outcome = OutcomeAbandoned
	}
	for ch := range cs.ch {
		if cs.ch[ch].cur == h {
			cs.ch[ch].cur = nil
		}
	}
}

// response runs the state machines on a response.
func (cs *connState) response(hs hasher, req, resp *reassembly.Message) {
	cs.responses++
	cs.statuses[resp.Status]++
	if resp.Status >= 100 && resp.Status < 200 {
		return
	}
	var info *reqInfo
	if req != nil {
		info = cs.pending[req]
		delete(cs.pending, req)
	}
	counted := false
	for ch := chServer; ch < numChannels; ch++ {
		var a authMsg
		if resp.Status == authStatus[ch] {
			a = hs.parseChallenges(resp.Values(challengeHeader[ch]))
		}
		switch a.kind {
		case kindOffer:
			cs.offers++
		case kindType2:
			cs.challenges++
		}
		if cs.responseOn(ch, info, resp, &a) && !counted {
			counted = true
			cs.authRequests++
		}
	}
}

// responseOn advances one channel on a response; it reports whether the
// request was served as an authenticated request.
func (cs *connState) responseOn(ch channel, info *reqInfo, resp *reassembly.Message, a *authMsg) bool {
	st := &cs.ch[ch]
	var reqKind msgKind
	var h *handshake
	if info != nil {
		reqKind, h = info.auth[ch].kind, info.hs[ch]
	}
	switch {
	case reqKind == kindType1 && h != nil:
		switch {
		case a.kind == kindType2 && !h.t2.ok:
			h.setType2(a, resp)
			return false
		case h.t2.ok:
		default:
			h.flags |= fNotChallenged
			if st.cur == h {
				cs.interrupt(h, 0)
			}
		}
	case reqKind == kindType3 && h != nil:
		if !h.final.ok {
			h.setFinal(ch, resp)
			if st.cur == h {
				st.cur = nil
			}
			if h.outcome == OutcomeSucceeded {
				st.authed = h
			}
		}
	case reqKind == kindNone && info != nil:
		if by := info.authedBy[ch]; by != nil && by == st.authed {
			if resp.Status == authStatus[ch] && (a.kind == kindOffer || a.kind == kindType2) {
				cs.reauths = append(cs.reauths, reauth{frame: resp.Frame, time: resp.Time, proxy: ch == chProxy,
					via: info.msg.Get("Via") != "", persist: by.has(fPersistOff), hs: by})
				st.authed = nil
			} else if !failStatus(ch, resp.Status) {
				by.authRequests++
				by.lastAuthUse = resp.Time
				if info.client != "" && by.client != info.client && by.client != cs.clientIP() {
					cs.shared = append(cs.shared, sharedUse{frame: info.msg.Frame, time: info.msg.Time, client: info.client, hs: by})
				}
				if a.kind == kindNone {
					return ch == chServer || info.authedBy[chServer] == nil
				}
			}
		}
		if a.kind == kindOffer {
			st.offer = stepOf(info.msg)
		}
	}
	if a.kind == kindType2 && (h == nil || h.t2.frame != resp.Frame) {
		cs.orphanType2(ch, info, resp, a)
	}
	return false
}

// orphanType2 places a Type 2 whose Type 1 was not captured (or not paired):
// on the handshake in progress when it lacks one, else on a new handshake.
func (cs *connState) orphanType2(ch channel, info *reqInfo, resp *reassembly.Message, a *authMsg) {
	st := &cs.ch[ch]
	h := st.cur
	if h == nil || h.t2.ok || h.t3.ok {
		if h != nil {
			cs.interrupt(h, fRestarted)
		}
		h = cs.newHandshake(ch, info, a)
		st.cur = h
	}
	h.setType2(a, resp)
	st.authed = nil
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
	cs.pending = nil
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
