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

// request runs the state machines on a request. The message's header
// fields are read once (scanHeaders), and nothing of it is kept beyond its
// response but interned strings.
func (cs *connState) request(a *Analyzer, m *reassembly.Message) {
	cs.countMessage(m, &cs.requests)
	hd := scanHeaders(m)
	info := reqInfo{msg: reqMsgOf(m), via: hd.first[hdrVia] != ""}
	if c := realClient(&hd); c != "" {
		info.client = a.ic.str(c)
		cs.addRealClient(info.client)
	}
	if isProxied(&hd) {
		cs.proxied = true
	}
	wantClose := wantsClose(m, &hd)
	var auth [numChannels]authMsg
	hasAuth := false
	for ch := chServer; ch < numChannels; ch++ {
		if hd.has[credHeader[ch]] {
			auth[ch] = a.hash.parseCredentials(&hd, credHeader[ch])
		}
		info.kind[ch] = auth[ch].kind
		if auth[ch].kind != kindNone {
			hasAuth = true
		}
		cs.requestOn(a, ch, &info, m, &auth[ch], wantClose)
	}
	line := lineHash(m)
	info.exch = cs.recordRequest(&a.ic, &info, m, line, &auth, &hd)
	cs.addReq(&a.ic, m, line, hasAuth)
	cs.live.queue = append(cs.live.queue, info)
}

// requestOn advances one channel's state machine on a request m.
func (cs *connState) requestOn(an *Analyzer, ch channel, info *reqInfo, m *reassembly.Message, a *authMsg, wantClose bool) {
	st := &cs.live.ch[ch]
	switch a.kind {
	case kindType1:
		if st.cur != nil {
			cs.interrupt(st.cur, fRestarted)
		}
		h := cs.newHandshake(ch, info, a)
		h.t1 = stepOf(m)
		h.requests++
		if st.offer.ok() {
			h.open = st.offer
			h.requests++
			st.offer = step{}
		}
		if wantClose {
			h.flags |= fClientAskedClose
		}
		st.cur, st.authed = h, nil
		info.hs[ch] = h
	case kindType3:
		h := st.cur
		if h == nil || h.t3.ok() {
			h = cs.newHandshake(ch, info, a)
			st.cur = h
		}
		if h.t1.ok() && !h.t2.ok() {
			h.flags |= fResponseLost
		}
		h.setType3(&an.ic, a, m)
		h.t3client = cs.clientIP()
		if info.client != "" {
			h.t3client = info.client
		}
		st.authed = nil
		info.hs[ch] = h
	case kindKerberos:
		cs.rareRW().kerberos++
		x := cs.rareRW()
		x.kerbTokens = append(x.kerbTokens, tokenSeen{hash: a.tokenHash, time: m.Time, request: true})
	case kindNone:
		if h := st.cur; h != nil && h.t2.ok() && !h.t3.ok() {
			cs.interrupt(h, fMovedOn)
		}
		if st.authed != nil {
			info.authedBy[ch] = st.authed
		}
	}
}

// newHandshake starts a handshake on the connection.
func (cs *connState) newHandshake(ch channel, info *reqInfo, a *authMsg) *handshake {
	h := cs.live.owner.handshakes.alloc(handshakeSlabLen)
	*h = handshake{proxy: ch == chProxy, conn: cs, t3conn: cs, scheme: a.scheme, spnego: a.spnego, lastAuthUse: noTime}
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
	if h.t3.ok() && !h.final.ok() {
		h.outcomeL = labelIncomplete // its response was not captured
	} else if h.outcomeL == noLabel {
		h.outcomeL = labelAbandoned
	}
	for ch := range cs.live.ch {
		if cs.live.ch[ch].cur == h {
			cs.live.ch[ch].cur = nil
		}
	}
}

// response runs the state machines on a response.
func (cs *connState) response(a *Analyzer, req, resp *reassembly.Message) {
	if cs.countMessage(resp, &cs.responses) {
		cs.countStatus(resp.Status)
	}
	if resp.Status >= 100 && resp.Status < 200 {
		return
	}
	info, paired := cs.pair(req)
	var ip *reqInfo
	if paired {
		ip = &info
	}
	hd := scanHeaders(resp)
	counted := false
	var auths [numChannels]authMsg
	for ch := chServer; ch < numChannels; ch++ {
		var am authMsg
		if resp.Status == authStatus[ch] && hd.has[challengeHeader[ch]] {
			am = a.hash.parseChallenges(&hd, challengeHeader[ch])
		}
		auths[ch] = am
		switch am.kind {
		case kindOffer:
			cs.offers++
		case kindType2:
			cs.challenges++
		}
		if cs.responseOn(a, ch, ip, resp, &hd, &am) && !counted {
			counted = true
			cs.authRequests++
		}
	}
	cs.recordResponse(ip, resp, &auths)
}

// pair takes the request a final response answers off the queue: req, as
// the reassembler paired them. It knows where server bytes were lost (a
// gap, a resynchronised parser) and which responses went with them
// (reassembly's answer), so pairing is decided there once. The requests
// queued before req lost their responses; a nil req (a response to a
// request the capture did not hold) answers none.
func (cs *connState) pair(req *reassembly.Message) (reqInfo, bool) {
	lv := cs.live
	if req == nil {
		return reqInfo{}, false
	}
	i := 0 // nearly always the head
	for i < len(lv.queue) && lv.queue[i].msg.index != req.Index {
		i++
	}
	if i == len(lv.queue) {
		return reqInfo{}, false
	}
	info := lv.queue[i]
	// No handshake is kept beyond its response; an emptied queue starts
	// over in the same array.
	clear(lv.queue[:i+1])
	if i+1 == len(lv.queue) {
		lv.queue = lv.queue[:0]
	} else {
		lv.queue = lv.queue[i+1:]
	}
	return info, true
}

// servedOn reports whether a request that carried no credentials on
// channel ch, on a connection ch had authenticated, counts as an
// authenticated request of ch's handshake, given its response's status. A
// request counts once, for one handshake, so that users' and handshakes'
// counts add up to the summary's. It does not count when it was refused
// (401, 407), nor when it carries a Type 1 or Type 3 on the other channel:
// it is a request of that channel's handshake (say, a server handshake on
// a connection a proxy authenticated). A Kerberos or other token on the
// other channel makes no NTLM handshake: the request counts for ch's.
// When both channels had authenticated the connection, it counts for the
// server's handshake.
func servedOn(ch channel, info *reqInfo, status int) bool {
	if status == 401 || status == 407 {
		return false
	}
	for _, k := range info.kind {
		if k == kindType1 || k == kindType3 {
			return false
		}
	}
	return ch == chServer || info.authedBy[chServer] == nil
}

// responseOn advances one channel on a response; it reports whether the
// request was served as an authenticated request.
func (cs *connState) responseOn(an *Analyzer, ch channel, info *reqInfo, resp *reassembly.Message, hd *msgHeaders, a *authMsg) bool {
	st := &cs.live.ch[ch]
	var reqKind msgKind
	var h *handshake
	if info != nil {
		reqKind, h = info.kind[ch], info.hs[ch]
	}
	switch {
	case reqKind == kindType1 && h != nil:
		switch {
		case a.kind == kindType2 && !h.t2.ok():
			h.setType2(&an.ic, a, resp, hd)
			return false
		case h.t2.ok():
		case h.t3.ok() && !h.final.ok():
			// The client sent its Type 3 before this "answer" to its
			// Type 1: the Type 2 was lost and the reassembler paired the
			// Type 3's response with the Type 1. Take it as the final
			// response; the one paired with the Type 3 is then ignored.
			cs.finish(&an.ic, ch, h, resp, hd)
		case resp.GapsBefore[reassembly.ServerToClient] > info.msg.serverGaps:
			h.flags |= fResponseLost // the Type 2 may be in the gap
		default:
			h.flags |= fNotChallenged
			if st.cur == h {
				cs.interrupt(h, 0)
			}
		}
	case reqKind == kindType3 && h != nil:
		if !h.final.ok() {
			cs.finish(&an.ic, ch, h, resp, hd)
		}
	case reqKind == kindNone && info != nil:
		if by := info.authedBy[ch]; by != nil && by == st.authed {
			if resp.Status == authStatus[ch] && (a.kind == kindOffer || a.kind == kindType2) {
				x := cs.rareRW()
				x.reauths = append(x.reauths, reauth{frame: resp.Frame, time: resp.Time, proxy: ch == chProxy,
					via: info.via, persist: by.has(fPersistOff), hs: by})
				st.authed = nil
			} else if !failStatus(ch, resp.Status) {
				by.lastAuthUse = nanoOf(resp.Time)
				if info.client != "" && by.client != info.client && by.client != cs.clientIP() {
					x := cs.rareRW()
					x.shared = append(x.shared, sharedUse{frame: info.msg.frame, time: info.msg.time, client: info.client, hs: by})
				}
				if servedOn(ch, info, resp.Status) {
					by.authRequests++
					return a.kind == kindNone
				}
			}
		}
		if a.kind == kindOffer {
			st.offer = info.msg.step()
		}
	}
	if a.kind == kindType2 && (h == nil || h.t2.frame() != resp.Frame) {
		cs.orphanType2(&an.ic, ch, info, resp, hd, a)
	}
	return false
}

// finish records the final response of a handshake.
func (cs *connState) finish(in *internCache, ch channel, h *handshake, resp *reassembly.Message, hd *msgHeaders) {
	st := &cs.live.ch[ch]
	h.setFinal(in, ch, resp, hd)
	if st.cur == h {
		st.cur = nil
	}
	if h.outcome() == OutcomeSucceeded {
		st.authed = h
	}
}

// orphanType2 places a Type 2 whose Type 1 was not captured (or not paired):
// on the handshake in progress when it lacks one, else on a new handshake.
func (cs *connState) orphanType2(in *internCache, ch channel, info *reqInfo, resp *reassembly.Message, hd *msgHeaders, a *authMsg) {
	st := &cs.live.ch[ch]
	h := st.cur
	if h == nil || h.t2.ok() || h.t3.ok() {
		if h != nil {
			cs.interrupt(h, fRestarted)
		}
		h = cs.newHandshake(ch, info, a)
		st.cur = h
	}
	h.setType2(in, a, resp, hd)
	st.authed = nil
}

// countMessage counts m in *n when it arrived whole, and reports whether it
// did. A message whose body was cut (a gap, or the capture ended first) is
// not counted, as Wireshark does not show one whose reassembly never
// completed; it is counted in incompleteMessages, and its headers still
// drive the state machine.
func (cs *connState) countMessage(m *reassembly.Message, n *int32) bool {
	if m.Incomplete {
		cs.rareRW().incompleteMessages++
		return false
	}
	*n++
	return true
}
