package analyzer

import (
	"strings"
)

// linkSplits joins the halves of split handshakes: a Type 3 on a connection
// that never carried its Type 2 (and lost nothing that could hide one) is
// matched with a Type 2 on another connection of the same leg, from the
// same client, at most the link window earlier, whose server identity and
// MsvAvTimestamp the Type 3 echoes (compared as keyed hashes). Without an
// echo (NTLMv1) the latest such Type 2 is taken. The pair becomes one
// handshake; the first half is not counted again. A Type 3 whose Type 2 is
// on its own connection, in a handshake something else interrupted, is
// joined to it (interleaving, not a split).
func (d *diagnosis) linkSplits() {
	var halves []*handshake
	for _, h := range d.records {
		if h.t2.ok && !h.t3.ok {
			halves = append(halves, h)
		}
	}
	for _, h := range d.records {
		if !h.t3.ok || h.t2.ok || h.mergedInto != nil {
			continue
		}
		if o := sameConnHalf(h); o != nil {
			merge(o, h)
			h.flags = h.flags&^fSplit | fInterleaved | fInterleavedHere
			continue
		}
		if d.lostChallenge(h) {
			h.evid = EvidenceChallengeNotCaptured
			continue
		}
		var best *handshake
		bestExact := false
		for _, a := range halves {
			if a.mergedInto != nil || a.conn == h.conn || a.conn.leg != h.conn.leg || a.proxy != h.proxy ||
				a.client != h.client || !within(a.t2.time, h.t3.time, d.opts.LinkWindow) {
				continue
			}
			exact := false
			if h.echoIdentity != "" && a.identity != "" {
				if h.echoTS && a.t2TS {
					if h.echoKey != a.idKey {
						continue
					}
					exact = true
				} else if !strings.EqualFold(h.echoIdentity, a.identity) {
					continue
				}
			}
			if best == nil || (exact && !bestExact) || (exact == bestExact && a.t2.time.After(best.t2.time)) {
				best, bestExact = a, exact
			}
		}
		if best != nil {
			merge(best, h)
		}
	}
}

// sameConnHalf finds, on the Type 3's own connection, the earlier Type 2
// it echoes exactly, when that handshake was left without a Type 3 (another
// handshake or request came in between: interleaving on a shared
// connection).
func sameConnHalf(h *handshake) *handshake {
	if !h.echoTS {
		return nil
	}
	var best *handshake
	for _, o := range h.t3conn.hs {
		if o != h && o.t2.ok && !o.t3.ok && o.mergedInto == nil && o.t2TS && o.idKey == h.echoKey &&
			o.t2.time.Before(h.t3.time) {
			best = o
		}
	}
	return best
}

// lostChallenge reports a Type 3 whose Type 2 the capture may have missed:
// a gap in the server's direction before it (or before its response), a
// Type 1 on the same connection whose response was not captured, or a
// connection that started mid-stream and showed no Type 2 before.
func (d *diagnosis) lostChallenge(h *handshake) bool {
	c := h.t3conn
	if h.t3ServerGaps > 0 || h.has(fResponseLost) || (!h.final.ok && c.gaps[1] > 0) {
		return true
	}
	if !c.sawSYN {
		for _, o := range c.hs {
			if o != h && o.t2.ok && o.conn == c && o.t2.time.Before(h.t3.time) {
				return false
			}
		}
		return true
	}
	return false
}

// merge makes h (a Type 3 without challenge) the whole handshake whose
// first half is a.
func merge(a, h *handshake) {
	h.open, h.t1, h.t2 = a.open, a.t1, a.t2
	h.t2Status = a.t2Status
	h.identity, h.idKey, h.t2TS = a.identity, a.idKey, a.t2TS
	h.t2Hash, h.hasT2, h.t2Hint, h.t2ClientGaps = a.t2Hash, a.hasT2, a.t2Hint, a.t2ClientGaps
	h.flags |= a.flags&(fClientAskedClose|fServerSaidClose) | fSplit
	h.requests += a.requests
	if a.scheme == "Negotiate" {
		h.scheme = a.scheme
	}
	h.spnego = h.spnego || a.spnego
	h.conn = a.conn
	a.mergedInto = h
	a.outcome = ""
}

// splitCause decides who split a handshake: the side that closed the first
// connection (or asked to) before the Type 3, or the client when it opened
// a new connection while the first was still open.
func splitCause(h *handshake) (cause, code string) {
	if h.has(fClientAskedClose) {
		return CauseClient, CodeClientClosedMidHS
	}
	if h.has(fServerSaidClose) {
		return CauseBalancer, CodeConnectionClosedMidHS
	}
	a, b := h.conn, h.t3conn
	before := func(f int64) bool { return f != 0 && (a.file != b.file || f < h.t3.frame) }
	sc, cc := a.closeFrame(1), a.closeFrame(0)
	if before(sc) && (!before(cc) || sc < cc) {
		return CauseBalancer, CodeConnectionClosedMidHS
	}
	return CauseClient, CodeClientClosedMidHS
}

// checkServerChanges marks client-leg connections whose Type 2 messages
// (per channel) came from several server identities, and reports them.
func (d *diagnosis) checkServerChanges() {
	for _, cs := range d.conns {
		if cs.leg != LegClient {
			continue
		}
		for _, proxy := range []bool{false, true} {
			var ids []string
			var f *finding
			for _, h := range d.logical {
				if h.conn != cs || h.proxy != proxy || h.identity == "" || !h.t2.ok {
					continue
				}
				if len(ids) > 0 && !containsFold(ids, h.identity) {
					if f == nil {
						f = &finding{code: CodeChallengeServerChanged, time: h.t2.time}
						f.conns = append(f.conns, cs)
					}
					f.count++
					f.frames = append(f.frames, h.t2.frame)
				}
				if !containsFold(ids, h.identity) {
					ids = append(ids, h.identity)
				}
			}
			if f == nil {
				continue
			}
			for _, h := range d.logical {
				if h.proxy == proxy && (h.conn == cs || h.t3conn == cs) {
					h.connChanged = true
				}
			}
			f.msg = sprintf("client connection %d (%s → %s) received Type 2 messages from %d server identities (%s): "+
				"the balancer sends one client connection's requests to different backends", cs.id,
				addrString(cs.client), addrString(cs.server), len(ids), strings.Join(ids, ", "))
			d.add(f)
		}
	}
}

// findRestarts pairs each failed or abandoned client-leg handshake with the
// next handshake the same client started within the restart window (same
// connection or another; a different known user is not a restart). Each
// chain of restarts is a retry burst: Type 2 messages from different
// server identities within it are CHALLENGE_SERVER_CHANGED.
func (d *diagnosis) findRestarts() {
	byClient := map[string][]*handshake{}
	var order []string
	for _, h := range d.logical {
		k := h.client
		if h.proxy {
			k += "|proxy"
		}
		if _, ok := byClient[k]; !ok {
			order = append(order, k)
		}
		byClient[k] = append(byClient[k], h)
	}
	next := map[*handshake]*handshake{}
	for _, k := range order {
		hs := byClient[k]
		for i, h := range hs {
			if !h.failure() {
				continue
			}
			end := h.end()
			for _, n := range hs[i+1:] {
				s := n.start()
				if s.Before(end) {
					continue
				}
				if !within(end, s, d.opts.RestartWindow) {
					break
				}
				if h.hasUser && n.hasUser && h.userKey() != n.userKey() {
					continue
				}
				h.restartedBy = n
				next[h] = n
				d.restarts = append(d.restarts, restart{h, n})
				break
			}
		}
	}
	pointed := map[*handshake]bool{}
	for _, n := range next {
		pointed[n] = true
	}
	for _, h := range d.logical {
		if next[h] == nil || pointed[h] {
			continue
		}
		var chain []*handshake
		var ids []string
		for x := h; x != nil; x = next[x] {
			chain = append(chain, x)
			if x.identity != "" && !containsFold(ids, x.identity) {
				ids = append(ids, x.identity)
			}
		}
		if len(ids) < 2 {
			continue
		}
		f := &finding{code: CodeChallengeServerChanged, time: chain[0].start(), count: len(chain)}
		for _, x := range chain {
			x.burstChanged = true
			f.conns = append(f.conns, x.conns()...)
			if x.t2.ok {
				f.frames = append(f.frames, x.t2.frame)
			}
			if x.hasUser {
				f.users = appendUnique(f.users, x.userName())
			}
		}
		f.msg = sprintf("client %s retried %d times; its Type 2 messages came from %d server identities (%s): "+
			"the balancer sends the retries to different backends", h.client, len(chain)-1, len(ids), strings.Join(ids, ", "))
		d.add(f)
	}
}

// containsFold reports whether list holds s, case-insensitively.
func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// appendUnique appends s unless list holds it (case-insensitively).
func appendUnique(list []string, s string) []string {
	if containsFold(list, s) {
		return list
	}
	return append(list, s)
}
