package analyzer

import (
	"strconv"
	"strings"
	"time"
)

// Findings about handshakes and connections: restarts, splits, lost
// challenges, routing, re-authentication, sharing, failures.

// restartFindings reports restarts (HANDSHAKE_RESTARTED).
func restartFindings(out *findingList, restarts []restart, labels []string) {
	for _, r := range restarts {
		f := hsFinding(CodeHandshakeRestarted, r.from, r.to)
		f.count = 1
		f.msg = restartMessage(r, labels)
		out.add(f)
	}
}

// restartMessage explains a restart:
//
//	"%s's handshake on connection %d %s (%s); the client started a new one %s %.*f ms later"
//
// with the client, the connection of the Type 3, the outcome, its cause
// and where and how much later the next handshake started (one decimal
// below 10 ms, where "0 ms" would say nothing). It is written
// without fmt: a capture of a misbehaving balancer has tens of thousands of
// restarts.
func restartMessage(r restart, labels []string) string {
	b := make([]byte, 0, 160)
	b = append(b, r.from.client...)
	b = append(b, "'s handshake on connection "...)
	b = appendCref(b, labels, r.from.t3conn)
	b = append(b, ' ')
	b = append(b, r.from.outcome()...)
	b = append(b, " ("...)
	b = append(b, causeText(r.from)...)
	b = append(b, "); the client started a new one "...)
	if r.to.conn != r.from.t3conn {
		b = append(b, "on connection "...)
		b = appendCref(b, labels, r.to.conn)
	} else {
		b = append(b, "on the same connection"...)
	}
	b = append(b, ' ')
	// As %.*f formats it.
	ms := float64(r.to.start().Sub(r.from.end())) / float64(time.Millisecond)
	b = strconv.AppendFloat(b, ms, 'f', laterDecimals(ms), 64)
	b = append(b, " ms later"...)
	return string(b)
}

// laterDecimals is how many decimals restartMessage gives a delay of ms
// milliseconds.
func laterDecimals(ms float64) int {
	if ms < 10 {
		return 1
	}
	return 0
}

// causeText says why a handshake failed, for messages.
func causeText(h *handshake) string {
	if h.cause() == "" {
		return "no cause"
	}
	if h.evidL != noLabel {
		return h.cause() + ": " + evidTexts[h.evidL]
	}
	return h.cause()
}

// evidTexts are the labels as causeText writes evidence: lower case, with
// spaces for underscores.
var evidTexts = func() []string {
	t := make([]string, len(labelNames))
	for i, n := range labelNames {
		t[i] = strings.ToLower(strings.ReplaceAll(n, "_", " "))
	}
	return t
}()

// handshakeFindings reports splits, lost challenges, handshakes left
// mid-way and Type 3 messages routed to another backend.
func (d *diagnosis) handshakeFindings(out *findingList) {
	var lost, notChallenged, epa []*handshake
	for _, h := range d.logical {
		switch {
		case h.evid() == EvidenceChallengeNotCaptured:
			lost = append(lost, h)
		case h.has(fSplit) && !h.has(fRoutedHere):
			f := hsFinding(CodeType3WithoutChallenge, h)
			f.msg = sprintf("the Type 3 of %s (frame %d, connection %s) answers the Type 2 of connection %s (frame %d): "+
				"the handshake was split across connections", h.userName(), d.fp(h.t3conn, h.t3.frame()), d.cref(h.t3conn), d.cref(h.conn), d.fp(h.conn, h.t2.frame()))
			first, firstConn := h.note().firstT3, h.note().firstT3Conn
			again := ""
			if h.sentAgain {
				again = sprintf("; it was sent again after the first copy (frame %d, connection %s) went unanswered",
					d.fp(firstConn, first.frame()), d.cref(firstConn))
				f.msg += again
			}
			out.add(f)
			_, code := splitCause(h)
			g := hsFinding(code, h)
			// The texts of a Type 3 sent again tell how its first copy's
			// connection ended, which decided the cause only when that is
			// the Type 2's connection; else the split came first, and its
			// text says so, the copy sent again noted after it.
			sentHere := h.sentAgain && firstConn == h.conn
			switch {
			case sentHere && code == CodeConnectionClosedMidHS:
				g.msg = sprintf("the server side closed connection %s after the Type 3 (frame %d) without answering it; "+
					"the Type 3 was sent again on connection %s, where no backend knows the challenge",
					d.cref(firstConn), d.fp(firstConn, first.frame()), d.cref(h.t3conn))
			case code == CodeConnectionClosedMidHS:
				g.msg = sprintf("the server side closed connection %s after its Type 2 (frame %d); the client sent the "+
					"Type 3 on connection %s, where no backend knows the challenge", d.cref(h.conn), d.fp(h.conn, h.t2.frame()), d.cref(h.t3conn)) + again
			default:
				if sentHere {
					g.msg = sprintf("the client left connection %s while its Type 3 (frame %d) was unanswered and sent "+
						"the Type 3 again on connection %s", d.cref(firstConn), d.fp(firstConn, first.frame()), d.cref(h.t3conn))
				} else {
					g.msg = sprintf("the client left connection %s after its Type 2 (frame %d) and sent the Type 3 on "+
						"connection %s", d.cref(h.conn), d.fp(h.conn, h.t2.frame()), d.cref(h.t3conn)) + again
				}
				switch {
				case d.isProxyClient(h):
					g.msg += "; that client is itself a proxy, so the path split it"
				case crossedServers(h):
					// A client sends its Type 3 where it was challenged:
					// this "client" is a balancer seen from its backends.
					// Whether its own client split the handshake or it
					// moved the Type 3 is on the client leg.
					g.msg += sprintf("; the Type 3 went to another server (%s) than the one that challenged it (%s): "+
						"a client-side fault if this client is a user's, but if it is a balancer seen from its backends, "+
						"whether its own client split the handshake or it moved the Type 3, a capture of the client leg tells",
						addrString(h.t3conn.serverAddr()), addrString(h.conn.serverAddr()))
				default:
					g.msg += ": a client-side fault (keep the connection open for the whole handshake)"
				}
			}
			out.add(g)
		case h.t3.ok() && !h.t2.ok():
			f := hsFinding(CodeType3WithoutChallenge, h)
			f.msg = sprintf("the Type 3 of %s (frame %d, connection %s) came on a connection that never carried a Type 2, "+
				"and no Type 2 of the same client matches it in the capture", h.userName(), d.fp(h.t3conn, h.t3.frame()), d.cref(h.t3conn))
			out.add(f)
		}
		if h.has(fNotChallenged) {
			notChallenged = append(notChallenged, h)
		}
		if h.t3.ok() && h.cbNonZero && plaintext(h.t3conn) {
			epa = append(epa, h)
		}
		if routed(h) {
			out.add(d.routedFinding(h))
		}
		if h.outcome() == OutcomeAbandoned && !h.has(fSplit) {
			switch h.evid() {
			case CodeConnectionClosedMidHS:
				f := hsFinding(CodeConnectionClosedMidHS, h)
				switch sc := h.t3conn.closeFrame(1); {
				case h.t3.ok() && sc != 0 && sc < h.t3.frame():
					// The client sent its Type 3 on a connection the
					// server side had closed already.
					f.msg = sprintf("the server side closed connection %s (frame %d) after the %s, and the Type 3 the "+
						"client still sent on it (frame %d) got no answer", d.cref(h.t3conn), d.fp(h.t3conn, sc), lastStepName(h), d.fp(h.t3conn, h.t3.frame()))
				case h.t3.ok():
					f.msg = sprintf("the server side closed connection %s after the Type 3 (frame %d) without answering it",
						d.cref(h.t3conn), d.fp(h.t3conn, h.t3.frame()))
				default:
					f.msg = sprintf("the server side closed connection %s after the %s (frame %d) and no Type 3 followed",
						d.cref(h.conn), lastStepName(h), d.fpRef(lastFrame(h)))
				}
				out.add(f)
			case CodeClientAbandonedHandshake:
				f := hsFinding(CodeClientAbandonedHandshake, h)
				f.msg = d.abandonedText(h)
				out.add(f)
			case EvidenceType3Unanswered:
				f := hsFinding(CodeClientAbandonedHandshake, h)
				f.msg = sprintf("the client sent the Type 3 (frame %d) on connection %s, waited %.1f s without an answer "+
					"and closed the connection: the server side did not answer (the server, or the domain controller it "+
					"asks to validate NTLM, is slow or unreachable)", d.fp(h.t3conn, h.t3.frame()), d.cref(h.t3conn), unansweredFor(h).Seconds())
				out.add(f)
			}
		}
	}
	if len(lost) > 0 {
		f := hsFinding(CodeChallengeNotCaptured, lost...)
		f.msg = sprintf("%d Type 3 message(s) answer a Type 2 the capture did not record (gaps in the server's "+
			"direction or a capture started mid-connection): not counted as splits, not blamed", len(lost))
		out.add(f)
	}
	if len(notChallenged) > 0 {
		f := hsFinding(CodeType1NotChallenged, notChallenged...)
		f.msg = sprintf("%d Type 1 message(s) were answered without a Type 2", len(notChallenged))
		out.add(f)
	}
	if len(epa) > 0 {
		f := hsFinding(CodeEPABehindTLSOffload, epa...)
		failed := 0
		for _, h := range epa {
			if h.outcome() == OutcomeFailed {
				failed++
			}
		}
		f.msg = sprintf("%d Type 3 message(s) carry TLS channel bindings but reached the server over plaintext HTTP "+
			"(%d failed): a balancer terminates TLS in front of a server that checks Extended Protection", len(epa), failed)
		out.add(f)
	}
}

// routedFinding explains a TYPE3_ROUTED_TO_OTHER_BACKEND.
func (d *diagnosis) routedFinding(h *handshake) *finding {
	f := hsFinding(CodeType3RoutedToOtherBackend, h)
	upstream := map[int]*connState{} // the route's connections, by id
	for _, r := range h.note().route {
		for cs := range h.conn.rare().linked {
			if int(cs.id) == r.Connection {
				f.conns = append(f.conns, cs)
				upstream[r.Connection] = cs
			}
		}
		for cs := range h.t3conn.rare().linked {
			if int(cs.id) == r.Connection {
				f.conns = append(f.conns, cs)
				upstream[r.Connection] = cs
			}
		}
	}
	// The upstream leg's own frames of the handshake, beside the client's.
	for _, cs := range upstream {
		for _, u := range cs.hs {
			if u = u.root(); u.relayOf == h {
				f.frames = u.appendFrameRefs(f.frames)
			}
		}
	}
	switch {
	case h.has(fRoutedDifferently):
		var t2, t3 string
		name := func(r RouteStep) string {
			if cs := d.connByID(r.Connection); cs != nil {
				return sprintf("upstream connection %s to %s", d.cref(cs), r.Server)
			}
			return sprintf("upstream connection %d to %s", r.Connection, r.Server)
		}
		for _, r := range h.note().route {
			switch r.Step {
			case "type2":
				t2 = name(r)
			case "type3":
				t3 = name(r)
			}
		}
		if t2 == "" {
			t2 = "an upstream connection the capture did not link"
		}
		f.msg = sprintf("on client connection %s, the Type 2 of %s's handshake came over %s but its Type 3 (frame %d) "+
			"went over %s: the balancer moved the handshake", d.cref(h.t3conn), h.userName(), t2, d.fp(h.t3conn, h.t3.frame()), t3)
	case h.has(fRoutedHere):
		f.msg = sprintf("the Type 3 of %s (frame %d) answers the Type 2 of connection %s (frame %d) but went over "+
			"connection %s, whose last Type 2 (frame %d, %s) belongs to another handshake: the balancer moved the handshake",
			h.userName(), d.fp(h.t3conn, h.t3.frame()), d.cref(h.conn), d.fp(h.conn, h.t2.frame()), d.cref(h.t3conn),
			d.fp(h.t3conn, h.note().hereT2.frame()), orUnknown(h.note().hereIdentity))
	case h.has(fEchoMismatch):
		f.msg = sprintf("the Type 3 on connection %s (frame %d) answers a challenge from %s, but the connection's last "+
			"Type 2 (frame %d) came from %s", d.cref(h.t3conn), d.fp(h.t3conn, h.t3.frame()), h.echoIdentity(), d.fp(h.conn, h.t2.frame()), h.identity)
		if strings.EqualFold(h.echoIdentity(), h.identity) {
			f.msg = sprintf("the Type 3 on connection %s (frame %d) answers another challenge of %s than the connection's "+
				"last Type 2 (frame %d): another connection's handshake reached this backend connection",
				d.cref(h.t3conn), d.fp(h.t3conn, h.t3.frame()), h.identity, d.fp(h.conn, h.t2.frame()))
		}
	default:
		f.msg = sprintf("the Type 2 (frame %d) and the final response (frame %d) of the handshake on connection %s "+
			"name different backends (%s, then %s)", d.fp(h.conn, h.t2.frame()), d.fp(h.t3conn, h.final.frame()), d.cref(h.t3conn),
			h.note().t2Hint, h.note().finalHint)
	}
	return f
}

// abandonedText explains a CLIENT_ABANDONED_HANDSHAKE: how the client
// left the handshake.
func (d *diagnosis) abandonedText(h *handshake) string {
	if h.t3.ok() {
		return sprintf("the client sent the Type 3 (frame %d) on connection %s and closed the connection without waiting for the answer",
			d.fp(h.t3conn, h.t3.frame()), d.cref(h.t3conn))
	}
	if !h.t2.ok() {
		return sprintf("the client sent a Type 1 (frame %d) on connection %s and did not continue", d.fp(h.conn, h.t1.frame()), d.cref(h.conn))
	}
	how := "sent no Type 3"
	switch {
	case h.has(fClientAskedClose):
		how = "sent no Type 3 (it had asked to close the connection)"
	case h.has(fRestarted):
		how = "started a new handshake instead of sending the Type 3"
	case h.has(fMovedOn):
		how = "sent a request without credentials instead of the Type 3"
	case h.conn.closeFrame(0) != 0:
		how = sprintf("closed the connection (frame %d) without a Type 3", d.fp(h.conn, h.conn.closeFrame(0)))
	}
	return sprintf("the client received the Type 2 (frame %d) on connection %s and %s", d.fp(h.conn, h.t2.frame()), d.cref(h.conn), how)
}

// nextIdentity returns the server identity of the first Type 2 cs itself
// carried after the re-authentication demand r, or "". (cs.hs also holds
// split handshakes whose Type 2 came on another connection.)
func nextIdentity(cs *connState, r reauth) string {
	var next *handshake
	for _, h := range cs.hs {
		if h.conn == cs && h.proxy == r.proxy && h.t2.ok() && !h.t2.time().Before(r.time) &&
			(next == nil || h.t2.time().Before(next.t2.time())) {
			next = h
		}
	}
	if next == nil {
		return ""
	}
	return next.identity
}

// crossedServers reports a split handshake whose Type 3 went from the
// Type 2's client address to another server address.
func crossedServers(h *handshake) bool {
	a, b := h.conn, h.t3conn
	return a != b && a.clientIP() == b.clientIP() && a.serverAddr() != b.serverAddr()
}

// orUnknown names an identity, or says none was sent.
func orUnknown(id string) string {
	if id == "" {
		return "no server identity"
	}
	return id
}

func lastStepName(h *handshake) string {
	if h.t2.ok() {
		return "Type 2"
	}
	return "Type 1"
}

func lastFrame(h *handshake) frameRef {
	fs := h.appendFrameRefs(nil)
	if len(fs) == 0 {
		return frameRef{}
	}
	return fs[len(fs)-1]
}

// connectionFindings reports re-authentications, single-leg sharing and
// interleaving per client-leg connection.
func (d *diagnosis) connectionFindings(out *findingList) {
	for _, cs := range d.conns {
		if cs.upstream {
			continue
		}
		for _, r := range cs.rare().reauths {
			f := &finding{code: CodeReauthOnAuthenticated, conns: []*connState{cs}, time: r.time, frames: []frameRef{frameOn(cs, r.frame)}}
			if r.hs.hasUser {
				f.users = []string{r.hs.userName()}
			}
			status := 401
			if r.proxy {
				status = 407
			}
			f.msg = sprintf("connection %s, authenticated as %s, was answered %d asking for NTLM again (frame %d)",
				d.cref(cs), r.hs.userName(), status, d.fp(cs, r.frame))
			switch {
			case r.persist:
				f.msg += ": the server sent Persistent-Auth: false (IIS authPersistSingleRequest), so this is by design"
			case r.via:
				f.msg += ": the request carried Via, and IIS authenticates every request that comes through a proxy"
			default:
				if id := nextIdentity(cs, r); id != "" && strings.EqualFold(id, r.hs.identity) {
					// The Type 2 that follows comes from the server that
					// authenticated the connection: no backend changed.
					f.msg += sprintf(": the same server (%s) asks again, so it no longer holds the connection's "+
						"authentication (IIS authPersistSingleRequest without Persistent-Auth, or an application "+
						"pool recycled)", id)
				} else {
					f.msg += ": a different backend now serves this client connection"
				}
			}
			out.add(f)
		}
		if shared := cs.rare().shared; len(shared) > 0 {
			f := &finding{code: CodeAuthenticatedConnShared, conns: []*connState{cs}, time: shared[0].time, count: len(shared)}
			var clients, users nameSet
			for _, s := range shared {
				f.frames = append(f.frames, frameOn(cs, s.frame))
				clients.add(s.client)
				if s.hs.hasUser {
					users.add(s.hs.userName())
				}
			}
			f.users = users.names
			s := shared[0]
			f.msg = sprintf("connection %s, authenticated for client %s as %s, carried %d request(s) of other clients (%s): "+
				"they ran with that user's identity", d.cref(cs), s.hs.client, s.hs.userName(), len(shared), strings.Join(clients.names, ", "))
			out.add(f)
		}
		var inter []*handshake
		for _, h := range cs.hs {
			if h.mergedInto == nil && h.t3conn == cs && h.has(fInterleavedHere) && h.t3.ok() {
				inter = append(inter, h)
			}
		}
		if len(inter) > 0 {
			f := hsFinding(CodeInterleavedHandshakes, inter...)
			f.msg = sprintf("on connection %s, %d Type 3 message(s) answer an earlier Type 2 than the connection's last "+
				"(another handshake started in between): handshakes of several clients interleave on it", d.cref(cs), len(inter))
			out.add(f)
		}
	}
}

// authFailedFindings groups credential failures (AUTH_FAILED) and
// intermittent failures by user and client.
func (d *diagnosis) authFailedFindings(out *findingList) {
	type key struct{ code, user, client string }
	groups := map[key][]*handshake{}
	var order []key
	for _, h := range d.logical {
		if h.outcome() != OutcomeFailed || (h.evid() != CodeAuthFailed && h.evid() != CodeIntermittentAuthFailure) {
			continue
		}
		k := key{h.evid(), h.userKey(), h.client}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], h)
	}
	for _, k := range order {
		hs := groups[k]
		var ids []string
		for _, h := range hs {
			if h.identity != "" {
				ids = appendUnique(ids, h.identity)
			}
		}
		server := "the same server"
		if len(ids) > 0 {
			server = strings.Join(ids, ", ")
		}
		f := hsFinding(k.code, hs...)
		switch {
		case k.code == CodeAuthFailed && hs[0].userName() == anonymousName:
			// No password was sent, so none was wrong.
			f.msg = sprintf("%s from %s sent an anonymous Type 3 (no user) and %s refused it: the client had no "+
				"credentials it would send to this site (a browser logs on automatically only to sites in its "+
				"intranet zone or allow list)", plural(len(hs), "handshake"), k.client, server)
		case k.code == CodeAuthFailed && !d.hasUpstream:
			// One leg: a balancer that sends the Type 3 to another
			// server than its Type 2 draws the same 401, and only the
			// backend side shows it.
			f.msg = sprintf("%s of %s from %s failed against %s with no split and no later success: a wrong "+
				"password or an account problem, unless %s is a balancer that sent the Type 3 to another server "+
				"than the one that issued the challenge (this capture does not show the backend side)",
				plural(len(hs), "handshake"), hs[0].userName(), k.client, server, addrString(hs[0].t3conn.serverAddr()))
			if len(ids) > 1 {
				f.msg += sprintf("; each of the %d backends rejected a Type 3 on its own connection", len(ids))
			}
		case k.code == CodeAuthFailed:
			f.msg = sprintf("%s of %s from %s failed against %s with no split, nothing re-routed and no later "+
				"success: wrong password or account problem", plural(len(hs), "handshake"), hs[0].userName(), k.client, server)
			if len(ids) > 1 {
				// The one pattern the client leg cannot tell from a
				// balancer that routes each request: say so.
				f.msg += sprintf(" (each of the %d backends rejected a Type 3 on its own connection, and the backend "+
					"leg shows no Type 3 sent elsewhere than its Type 2)", len(ids))
			}
		default:
			f.msg = sprintf("%s of %s from %s failed against %s although the same user later succeeded from the "+
				"same client: the same credentials fail and work", plural(len(hs), "handshake"), hs[0].userName(), k.client, server)
		}
		out.add(f)
	}
}

// plural formats "1 handshake", "3 handshakes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return sprintf("%d %ss", n, noun)
}
