package analyzer

import (
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// The per-connection state machine. Each connection has two channels
// (server auth and proxy auth); on each, a request carries a Type 1, a
// Type 3, a Kerberos token or nothing, and its response a Type 2, a bare
// offer or a final status:
//
//	request → 401 offer → Type 1 → 401 Type 2 → Type 3 → final status
//
// A Type 1 while a handshake is open abandons it (restart); a request
// without credentials after a Type 2 abandons it (the client moved on); a
// Type 3 answered 401/407 fails it and anything else succeeds it, after
// which requests without credentials are authenticated requests until a
// 401/407 asks again (re-authentication).

// request runs the state machines on a request.
func (cs *connState) request(hs hasher, m *reassembly.Message) {
	cs.countMessage(m, &cs.requests)
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
	cs.recordRequest(info)
	cs.reqs = append(cs.reqs, reqRec{line: lineHash(m), time: m.Time, frame: m.Frame, hasAuth: hasAuth})
	cs.queue = append(cs.queue, info)
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
		h.t3client = cs.clientIP()
		if info.client != "" {
			h.t3client = info.client
		}
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
func (cs *connState) response(hs hasher, resp *reassembly.Message) {
	if cs.countMessage(resp, &cs.responses) {
		cs.statuses[resp.Status]++
	}
	if resp.Status >= 100 && resp.Status < 200 {
		cs.respGaps = resp.GapsBefore[reassembly.ServerToClient]
		return
	}
	info := cs.pair(resp)
	counted := false
	var auths [numChannels]authMsg
	for ch := chServer; ch < numChannels; ch++ {
		var a authMsg
		if resp.Status == authStatus[ch] {
			a = hs.parseChallenges(resp.Values(challengeHeader[ch]))
		}
		auths[ch] = a
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
	cs.recordResponse(info, resp, auths)
}

// pair finds the request a response answers. Without loss it is the oldest
// unanswered request (HTTP/1.1 answers in order). After a gap in the
// server's direction the responses in the gap are lost, and the
// reassembler's in-order pairing would shift every later pair: the response
// then answers the latest request that started before it, and the older
// unanswered ones lost their responses.
func (cs *connState) pair(resp *reassembly.Message) *reqInfo {
	gaps := resp.GapsBefore[reassembly.ServerToClient]
	lost := resp.Resynced || gaps > cs.respGaps
	cs.respGaps = gaps
	if len(cs.queue) == 0 || cs.queue[0].msg.FirstTime.After(resp.FirstTime) {
		return nil
	}
	i := 0
	if lost {
		for i+1 < len(cs.queue) && !cs.queue[i+1].msg.FirstTime.After(resp.FirstTime) {
			i++
		}
	}
	info := cs.queue[i]
	clear(cs.queue[:i+1])
	cs.queue = cs.queue[i+1:]
	return info
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
		case h.t3.ok && !h.final.ok:
			// The client sent its Type 3 before this "answer" to its
			// Type 1: the Type 2 was lost and the reassembler paired the
			// Type 3's response with the Type 1. Take it as the final
			// response; the one paired with the Type 3 is then ignored.
			cs.finish(ch, h, resp)
		case resp.GapsBefore[reassembly.ServerToClient] > info.msg.GapsBefore[reassembly.ServerToClient]:
			h.flags |= fResponseLost // the Type 2 may be in the gap
		default:
			h.flags |= fNotChallenged
			if st.cur == h {
				cs.interrupt(h, 0)
			}
		}
	case reqKind == kindType3 && h != nil:
		if !h.final.ok {
			cs.finish(ch, h, resp)
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

// finish records the final response of a handshake.
func (cs *connState) finish(ch channel, h *handshake, resp *reassembly.Message) {
	st := &cs.ch[ch]
	h.setFinal(ch, resp)
	if st.cur == h {
		st.cur = nil
	}
	if h.outcome == OutcomeSucceeded {
		st.authed = h
	}
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

// countMessage counts m in *n when it arrived whole, and reports whether it
// did. A message whose body was cut (a gap, or the capture ended first) is
// not counted, as Wireshark does not show one whose reassembly never
// completed; it is counted in incompleteMessages, and its headers still
// drive the state machine.
func (cs *connState) countMessage(m *reassembly.Message, n *int) bool {
	if m.Incomplete {
		cs.incompleteMessages++
		return false
	}
	*n++
	return true
}
