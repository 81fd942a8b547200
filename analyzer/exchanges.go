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

// exchRec is an exchange being recorded (80 bytes); hs is the handshake it
// belongs to (resolved to an index when the report is built). Its strings
// are interned: none shares a message's header block.
type exchRec struct {
	method, target      string
	hs                  *handshake
	reqFrame, respFrame int64
	reqTime, respTime   nanotime
	status              int16
	reqAuth, respAuth   authLabelID
	proxy               bool
	withAuth            bool // request or response carried authentication
	answered            bool
}

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
	neg := a.scheme == "Negotiate"
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
		case "Kerberos":
			return 9
		case "Negotiate":
			return 11
		}
		return 10
	}
	return labelNone
}

// recordRequest starts an exchange record for a request and returns its
// index (-1 beyond maxExchanges).
func (cs *connState) recordRequest(in *interner, info *reqInfo, auth *[numChannels]authMsg, hd *msgHeaders) int {
	lv := cs.live
	if len(lv.exchanges) >= maxExchanges {
		lv.exchangesOmitted++
		return -1
	}
	m := info.msg
	e := exchRec{method: in.str(m.Method), target: in.str(m.Target), reqFrame: m.Frame, reqTime: nanoOf(m.Time)}
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
	lv.exchanges = append(lv.exchanges, e)
	return len(lv.exchanges) - 1
}

// recordResponse completes the exchange of info with its response.
func (cs *connState) recordResponse(info *reqInfo, resp *reassembly.Message, auth *[numChannels]authMsg) {
	if info == nil || info.exch < 0 {
		return
	}
	e := &cs.live.exchanges[info.exch]
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
}

// compactExchanges keeps, when the connection closes, the exchanges the
// report will draw: none on a connection where nothing carried
// authentication (the report lists exchanges only for those), the first
// maxHealthyExchanges on a healthy one, else the first maxExchanges.
func (cs *connState) compactExchanges() {
	lv := cs.live
	found := false
	for i := range lv.exchanges {
		if lv.exchanges[i].withAuth {
			found = true
			break
		}
	}
	if !found {
		return
	}
	ex, omitted := lv.exchanges, lv.exchangesOmitted
	if cs.healthy() && len(ex) > maxHealthyExchanges {
		omitted += len(ex) - maxHealthyExchanges
		ex = ex[:maxHealthyExchanges]
	}
	x := cs.extra()
	x.exchanges, x.exchangesOmitted = clipped(ex), omitted
}

// healthy reports a closing connection whose handshakes all succeeded and
// that showed nothing a finding reports on its own: no re-authentication,
// no request of another client on its authentication, no Type 3 that
// answers another challenge than its connection's, no backend change
// between Type 2 and final response.
func (cs *connState) healthy() bool {
	if len(cs.ext().reauths) > 0 || len(cs.ext().shared) > 0 {
		return false
	}
	for _, h := range cs.hs {
		if h.outcome != OutcomeSucceeded || h.has(fInterleaved) ||
			(h.echoTS && h.t2TS && h.echoKey != h.idKey) || h.hintsDiffer() {
			return false
		}
	}
	return true
}

// buildExchanges renders the records of a connection that carried
// authentication; index maps handshakes to their position in the
// connection's report.
func (cs *connState) buildExchanges(index map[*handshake]int) []Exchange {
	ex := cs.ext().exchanges
	if len(ex) == 0 {
		return nil
	}
	out := make([]Exchange, 0, len(ex))
	for i := range ex {
		e := &ex[i]
		x := Exchange{
			Method: e.method, Target: e.target, RequestFrame: e.reqFrame, RequestTime: e.reqTime.time(),
			RequestAuth: authLabels[e.reqAuth], Proxy: e.proxy, Status: int(e.status), ResponseFrame: e.respFrame,
			ResponseAuth: authLabels[e.respAuth], Handshake: -1,
		}
		if e.answered {
			x.ResponseTime = e.respTime.time()
		}
		h := e.hs
		for h != nil && h.mergedInto != nil {
			h = h.mergedInto
		}
		if i, ok := index[h]; ok && h != nil {
			x.Handshake = i
		}
		out = append(out, x)
	}
	return out
}
