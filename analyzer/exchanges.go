package analyzer

import (
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// maxExchanges bounds the exchanges kept per connection for ladder
// diagrams, so memory stays bounded by open connections on a keep-alive
// connection that serves thousands of requests.
const maxExchanges = 200

// exchRec is an exchange being recorded; hs is the handshake it belongs
// to (resolved to an index when the report is built).
type exchRec struct {
	method, target string
	reqFrame       int64
	reqTime        time.Time
	reqAuth        string
	proxy          bool
	status         int
	respFrame      int64
	respTime       time.Time
	respAuth       string
	hs             *handshake
	withAuth       bool // request or response carried authentication
}

// authLabel names an auth message for a ladder arrow.
func authLabel(a *authMsg) string {
	switch a.kind {
	case kindType1:
		return a.scheme + " type1"
	case kindType2:
		return a.scheme + " type2"
	case kindType3:
		return a.scheme + " type3"
	case kindOffer:
		return a.scheme + " offer"
	case kindKerberos:
		return "Kerberos"
	case kindOther:
		return a.scheme
	}
	return ""
}

// recordRequest starts an exchange record for a request.
func (cs *connState) recordRequest(info *reqInfo) {
	if len(cs.exchanges) >= maxExchanges {
		cs.exchangesOmitted++
		return
	}
	m := info.msg
	e := &exchRec{method: m.Method, target: m.Target, reqFrame: m.Frame, reqTime: m.Time}
	for ch := chServer; ch < numChannels; ch++ {
		if l := authLabel(&info.auth[ch]); l != "" {
			e.reqAuth, e.proxy, e.withAuth = l, ch == chProxy, true
			if info.hs[ch] != nil {
				e.hs = info.hs[ch]
			}
		} else if e.hs == nil && info.authedBy[ch] != nil {
			e.hs = info.authedBy[ch]
		}
	}
	if e.reqAuth == "" && m.Get("Authorization")+m.Get("Proxy-Authorization") != "" {
		e.reqAuth = "credentials" // Basic, Digest, Bearer: never printed
	}
	info.exch = e
	cs.exchanges = append(cs.exchanges, e)
}

// recordResponse completes the exchange of info with its response.
func (cs *connState) recordResponse(info *reqInfo, resp *reassembly.Message, auth [numChannels]authMsg) {
	if info == nil || info.exch == nil {
		return
	}
	e := info.exch
	e.status, e.respFrame, e.respTime = resp.Status, resp.Frame, resp.Time
	for ch := chServer; ch < numChannels; ch++ {
		if l := authLabel(&auth[ch]); l != "" {
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

// buildExchanges renders the records of a connection that carried
// authentication; index maps handshakes to their position in the
// connection's report.
func (cs *connState) buildExchanges(index map[*handshake]int) []Exchange {
	found := false
	for _, e := range cs.exchanges {
		if e.withAuth {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	out := make([]Exchange, 0, len(cs.exchanges))
	for _, e := range cs.exchanges {
		x := Exchange{
			Method: e.method, Target: e.target, RequestFrame: e.reqFrame, RequestTime: e.reqTime.UTC(),
			RequestAuth: e.reqAuth, Proxy: e.proxy, Status: e.status, ResponseFrame: e.respFrame,
			ResponseAuth: e.respAuth, Handshake: -1,
		}
		if !e.respTime.IsZero() {
			x.ResponseTime = e.respTime.UTC()
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
