package analyzer

import (
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// Exchanges kept per connection for ladder diagrams.
const (
	// maxExchanges bounds the exchanges recorded per connection, so that
	// memory stays bounded by open connections on a keep-alive connection
	// that serves thousands of requests.
	maxExchanges = 200
	// maxHealthyExchanges bounds them on a connection that closed healthy:
	// every handshake on it succeeded, and it showed nothing that a finding
	// reports (no re-authentication, no shared use, no Type 3 that answers
	// another challenge). Its first exchanges show the handshake; the rest
	// are authenticated requests alike, counted in exchanges_omitted.
	// Findings that other connections raise later (in Finish) do not bring
	// them back: findings carry their own frames.
	maxHealthyExchanges = 20
)

// exchRec is an exchange being recorded; hs is the handshake it belongs to
// (resolved to an index when the report is built). Its strings are
// interned: none shares a message's header block. A closed connection
// keeps the records the report draws encoded (appendExchange): about 11
// bytes each, the method and target as an index of the analyzer's table of
// request lines (line), which only they enter: a capture's other requests
// (thousands of distinct targets, perhaps) cost the table nothing.
type exchRec struct {
	method, target      string
	hs                  *handshake
	reqFrame, respFrame int64
	reqTime, respTime   nanotime
	line                lineID // method and target, once encoded
	status              int16
	reqAuth, respAuth   authLabelID
	proxy               bool
	withAuth            bool // request or response carried authentication
	answered            bool
}

// lineID indexes the analyzer's table of request lines (interner.lines).
type lineID uint32

// reqLine is a request's method and target, as exchanges name them.
type reqLine struct{ method, target string }

// authLabelID indexes authLabels.
type authLabelID uint8

// authLabels name the auth messages of ladder arrows.
var authLabels = [...]string{"", "NTLM type1", "NTLM type2", "NTLM type3", "Negotiate type1", "Negotiate type2",
	"Negotiate type3", "NTLM offer", "Negotiate offer", "Kerberos", "NTLM", "Negotiate", "credentials"}

// Indexes of authLabels used by name.
const (
	labelNone        authLabelID = 0
	labelCredentials authLabelID = 12
)

// authLabel names an auth message for a ladder arrow.
func authLabel(a *authMsg) authLabelID {
	neg := a.scheme == schemeNegotiate
	switch a.kind {
	case kindType1, kindType2, kindType3:
		id := authLabelID(a.kind) // kindType1..3 are 1..3
		if neg {
			id += 3
		}
		return id
	case kindOffer:
		if neg {
			return 8
		}
		return 7
	case kindKerberos:
		return 9
	case kindOther:
		switch a.scheme {
		case schemeKerberos:
			return 9
		case schemeNegotiate:
			return 11
		}
		return 10
	}
	return labelNone
}

// recordRequest starts an exchange record for a request m, whose request
// line hashes to line (lineHash), and returns its index (-1 beyond
// maxExchanges).
func (cs *connState) recordRequest(in *internCache, info *reqInfo, m *reassembly.Message, line uint64, auth *[numChannels]authMsg, hd *msgHeaders) int {
	lv := cs.live
	if lv.exchanges.len() >= maxExchanges {
		lv.exchangesOmitted++
		return -1
	}
	l := in.requestLine(line, m.Method, m.Target)
	e := exchRec{method: l.method, target: l.target, reqFrame: m.Frame, reqTime: nanoOf(m.Time)}
	for ch := chServer; ch < numChannels; ch++ {
		if l := authLabel(&auth[ch]); l != labelNone {
			e.reqAuth, e.proxy, e.withAuth = l, ch == chProxy, true
			if info.hs[ch] != nil {
				e.hs = info.hs[ch]
			}
		} else if e.hs == nil && info.authedBy[ch] != nil {
			e.hs = info.authedBy[ch]
		}
	}
	if e.reqAuth == labelNone && (hd.first[hdrAuthorization] != "" || hd.first[hdrProxyAuthorization] != "") {
		e.reqAuth = labelCredentials // Basic, Digest, Bearer: never printed
	}
	lv.exchangesAuth = lv.exchangesAuth || e.withAuth
	return lv.exchanges.add(&e, &lv.owner.chunks)
}

// recordResponse completes the exchange of info with its response.
func (cs *connState) recordResponse(info *reqInfo, resp *reassembly.Message, auth *[numChannels]authMsg) {
	if info == nil || info.exch < 0 {
		return
	}
	e := cs.live.exchanges.at(info.exch)
	e.status, e.respFrame, e.respTime, e.answered = int16(resp.Status), resp.Frame, nanoOf(resp.Time), true
	for ch := chServer; ch < numChannels; ch++ {
		if l := authLabel(&auth[ch]); l != labelNone {
			e.respAuth, e.withAuth = l, true
			if ch == chProxy {
				e.proxy = true
			}
			if e.hs == nil && info.hs[ch] != nil {
				e.hs = info.hs[ch]
			}
		}
	}
	cs.live.exchangesAuth = cs.live.exchangesAuth || e.withAuth
}

// compactExchanges keeps, when the connection closes, the exchanges the
// report will draw: none on a connection where nothing carried
// authentication (the report lists exchanges only for those), the first
// maxHealthyExchanges on a healthy one, else the first maxExchanges.
func (cs *connState) compactExchanges(in *internCache, scratch *[]byte) {
	if !cs.live.exchangesAuth {
		return
	}
	ex := &cs.live.exchanges
	n, omitted := ex.len(), cs.live.exchangesOmitted
	if cs.healthy() && n > maxHealthyExchanges {
		omitted += n - maxHealthyExchanges
		n = maxHealthyExchanges
	}
	for i := range n {
		e := ex.at(i)
		e.line = in.line(e.method, e.target)
	}
	x := cs.extra()
	x.exchanges, x.exchangeCount, x.exchangesOmitted = encodeExchanges(n, ex.at, cs.hs, scratch), int32(n), int32(omitted)
}

// healthy reports a closing connection whose handshakes all succeeded and
// that showed nothing a finding reports on its own: no re-authentication,
// no request of another client on its authentication, no Type 3 that
// answers another challenge than its connection's, no backend change
// between Type 2 and final response.
func (cs *connState) healthy() bool {
	if len(cs.rare().reauths) > 0 || len(cs.rare().shared) > 0 {
		return false
	}
	for _, h := range cs.hs {
		if h.outcome() != OutcomeSucceeded || h.has(fInterleaved) ||
			(h.echoTS && h.t2TS && h.echoKey != h.idKey) || h.hintsDiffer() {
			return false
		}
	}
	return true
}

// buildExchanges renders the records of a connection that carried
// authentication, appended to out (nil, or an empty slice to reuse);
// index finds handshakes' positions in the connection's report; lines and
// hashes are the analyzer's tables of request lines and of their hashes;
// frames gives the frames of a connection that spans files their own
// file's numbers.
func (cs *connState) buildExchanges(out []Exchange, index hsIndex, lines []reqLine, hashes []uint64, frames *reassembly.FrameLocator) []Exchange {
	ex := cs.ext().exchanges
	if len(ex) == 0 {
		return nil
	}
	if out == nil {
		out = make([]Exchange, 0, cs.x.exchangeCount)
	}
	chained, spans := frames.Chained(int(cs.file)), len(cs.rare().parts) > 0
	for e := range cs.eachExchange(hashes) {
		l := lines[e.line]
		x := Exchange{
			Method: l.method, Target: l.target, RequestFrame: e.reqFrame, RequestTime: e.reqTime.time(),
			RequestAuth: authLabels[e.reqAuth], Proxy: e.proxy, Status: int(e.status), ResponseFrame: e.respFrame,
			ResponseAuth: authLabels[e.respAuth], Handshake: -1,
		}
		if e.answered {
			x.ResponseTime = e.respTime.time()
		}
		if h := e.hs; h != nil {
			x.Handshake = index.of(h.root())
		}
		if chained {
			// Each frame in its own file's numbers; the file is named
			// when the connection spans several.
			var rf, sf int
			rf, x.RequestFrame = frames.Locate(int(cs.file), x.RequestFrame)
			sf, x.ResponseFrame = frames.Locate(int(cs.file), x.ResponseFrame)
			if spans {
				x.RequestFile = new(rf)
				if x.ResponseFrame > 0 {
					x.ResponseFile = new(sf)
				}
			}
		}
		out = append(out, x)
	}
	return out
}
