package analyzer

import (
	"slices"
	"strings"
	"time"
)

// linkSplits joins the halves of split handshakes: a Type 3 on a connection
// that never carried its Type 2 (and lost nothing that could hide one) is
// matched with a Type 2 on another connection of the same leg, from the
// same client, whose server identity and MsvAvTimestamp the Type 3 echoes
// (compared as keyed hashes): at most two minutes earlier when no other
// Type 2 has that key, else at most the link window earlier (a server
// whose timestamps repeat; see echoWindow). Without an echo (NTLMv1) the
// latest such Type 2 within the link window is taken. The pair becomes one
// handshake; the first half is not counted again. A Type 3 whose Type 2 is
// on its own connection, in a handshake something else interrupted, is
// joined to it (interleaving, not a split). A Type 3 sent again, byte for
// byte, after its first copy went unanswered joins the handshake of that
// copy (sentBefore). It runs after detachMisrouted, whose index of Type 2
// keys it reads.
func (d *diagnosis) linkSplits() {
	type groupKey struct {
		client   string
		upstream bool
		proxy    bool
	}
	byKey := map[digest][]*handshake{} // halves by keyed identity+timestamp
	byClient := map[groupKey][]*handshake{}
	for _, h := range d.records {
		if h.t2.ok() && !h.t3.ok() {
			if h.t2TS {
				byKey[h.idKey] = append(byKey[h.idKey], h)
			}
			k := groupKey{h.client, h.conn.upstream, h.proxy}
			byClient[k] = append(byClient[k], h)
		}
	}
	for _, hs := range byClient {
		slices.SortStableFunc(hs, func(a, b *handshake) int { return a.t2.time().Compare(b.t2.time()) })
	}
	usable := func(a, h *handshake) bool {
		return a.mergedInto == nil && !a.t3.ok() && a.t2.time().Before(h.t3.time())
	}
	unanswered := map[digest][]*handshake{} // Type 3 messages that got no answer, by token
	for _, h := range d.records {
		if h.hasT3 && !h.final.ok() {
			unanswered[h.t3Hash] = append(unanswered[h.t3Hash], h)
		}
	}
	for _, h := range d.records {
		if !h.t3.ok() || h.t2.ok() || h.mergedInto != nil {
			continue
		}
		if a := sentBefore(h, unanswered[h.t3Hash]); a != nil && a.t2.ok() {
			// A first copy without its Type 2 (not captured, or lost in a
			// gap) is left alone: h looks for the Type 2 itself.
			mergeSentAgain(a, h)
			continue
		}
		var same, best *handshake
		if h.echoTS {
			for _, a := range byKey[h.echoKey] {
				switch {
				case !usable(a, h):
				case a.conn == h.t3conn:
					same = a
				case a.conn.upstream == h.t3conn.upstream && a.proxy == h.proxy && a.client == h.client &&
					within(a.t2.time(), h.t3.time(), d.echoWindow(len(d.byT2Key[h.echoKey]))):
					best = a
				}
			}
		}
		if same != nil {
			merge(same, h)
			h.flags = h.flags&^fSplit | fInterleaved | fInterleavedHere
			continue
		}
		if d.lostChallenge(h) {
			h.setEvid(EvidenceChallengeNotCaptured)
			continue
		}
		if best == nil {
			best = d.looseHalf(h, byClient[groupKey{h.client, h.t3conn.upstream, h.proxy}])
		}
		if best != nil {
			merge(best, h)
		}
	}
}

// exactEchoWindow bounds the time from a Type 2 to the Type 3 that echoes
// its identity and timestamp exactly, when no other Type 2 of the capture
// has them: an exact echo is proof, and retransmissions on a lossy path
// held Type 3 messages up 11–15 s in the lab, past the link window; a
// server keeps a challenge for a few minutes at most, and a server whose
// timestamps do not change would otherwise join halves hours apart.
const exactEchoWindow = 2 * time.Minute

// echoWindow is how far apart a Type 2 and a Type 3 that echoes its key
// may be, given how many Type 2 messages of the capture have that key.
func (d *diagnosis) echoWindow(sameKey int) time.Duration {
	if sameKey == 1 {
		return max(exactEchoWindow, d.opts.LinkWindow)
	}
	return d.opts.LinkWindow
}

// sentBefore returns the handshake whose unanswered Type 3 h's is, byte
// for byte, sent again on another connection of the same leg and channel
// (the token is unique to one handshake, so nothing else matches), or nil.
// A balancer that lost its backend connection after the Type 3 went out,
// or a client whose connection died waiting, sends the request again on a
// new connection, where no backend knows the challenge.
func sentBefore(h *handshake, unanswered []*handshake) *handshake {
	for _, a := range unanswered {
		if a != h && a.mergedInto == nil && a.t3conn != h.t3conn && a.proxy == h.proxy &&
			a.t3conn.upstream == h.t3conn.upstream && a.t3.time().Before(h.t3.time()) {
			return a
		}
	}
	return nil
}

// mergeSentAgain merges a, whose Type 3 went unanswered, into h, the same
// Type 3 sent again on another connection: one split handshake, answered
// on h's connection, which remembers where the first Type 3 went.
func mergeSentAgain(a, h *handshake) {
	first, firstConn := a.t3, a.t3conn
	if a.sentAgain { // sent a third time: keep the first of all
		first, firstConn = a.note().firstT3, a.note().firstT3Conn
	}
	merge(a, h)
	n := h.notesRW()
	n.firstT3, n.firstT3Conn = first, firstConn
	h.sentAgain = true
}

// looseHalf finds the first half of a split handshake without an exact
// echo (NTLMv1, or a Type 2 without MsvAvTimestamp): the latest open Type 2
// of the same client within the link window, from the server identity the
// Type 3 names when both name one. halves are sorted by Type 2 time.
func (d *diagnosis) looseHalf(h *handshake, halves []*handshake) *handshake {
	from := h.t3.time().Add(-d.opts.LinkWindow)
	i, _ := slices.BinarySearchFunc(halves, from, func(a *handshake, t time.Time) int { return a.t2.time().Compare(t) })
	var best *handshake
	for _, a := range halves[i:] {
		if a.t2.time().After(h.t3.time()) {
			break
		}
		if a.mergedInto != nil || a.t3.ok() || a.conn == h.t3conn || (h.echoTS && a.t2TS) {
			continue
		}
		if h.echoIdentity() != "" && a.identity != "" && !strings.EqualFold(h.echoIdentity(), a.identity) {
			continue
		}
		best = a
	}
	return best
}

// lostChallenge reports a Type 3 whose Type 2 the capture may have missed:
// a gap in the server's direction before it (or before its response), a
// Type 1 on the same connection whose response was not captured, or a
// connection that started mid-stream and showed no Type 2 before.
func (d *diagnosis) lostChallenge(h *handshake) bool {
	c := h.t3conn
	if h.t3ServerGaps > 0 || h.has(fResponseLost) || (!h.final.ok() && c.rare().gaps[1] > 0) {
		return true
	}
	if !c.sawSYN {
		for _, o := range c.hs {
			if o != h && o.t2.ok() && o.conn == c && o.t2.time().Before(h.t3.time()) {
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
	h.identity, h.idKey, h.t2TS = a.identity, a.idKey, a.t2TS
	h.t2Hash, h.hasT2, h.t2ClientGaps = a.t2Hash, a.hasT2, a.t2ClientGaps
	h.setHints(a.note().t2Hint, h.note().finalHint)
	h.flags |= a.flags&(fClientAskedClose|fServerSaidClose) | fSplit
	h.requests += a.requests
	if a.scheme == schemeNegotiate {
		h.scheme = a.scheme
	}
	h.spnego = h.spnego || a.spnego
	h.conn = a.conn
	a.mergedInto = h
	a.outcomeL = noLabel
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
	// Frames of two captures do not compare (those of one chain of files
	// do).
	before := func(f int64) bool { return f != 0 && (a.capture != b.capture || f < h.t3.frame()) }
	sc, cc := a.closeFrame(1), a.closeFrame(0)
	if before(sc) && (!before(cc) || sc < cc) {
		return CauseBalancer, CodeConnectionClosedMidHS
	}
	return CauseClient, CodeClientClosedMidHS
}

// checkServerChanges finds the client-leg connections whose Type 2
// messages (per channel) came from several server identities, reports them
// in out and returns the handshakes on them, for the caller to mark
// (fConnChanged): it runs beside findRestarts (see run), and neither
// writes the handshakes.
func (d *diagnosis) checkServerChanges(out *findingList) []*handshake {
	type key struct {
		cs    *connState
		proxy bool
	}
	// First the connections that saw two identities (nearly always
	// none): only those need their handshakes collected. Each
	// connection's own list is read: a handshake is in its Type 2
	// connection's, or (split) its first half is, merged into it. The
	// order they are read in does not matter (EqualFold is an
	// equivalence), and changed holds only the connections that did: a
	// table indexed by connection id would be sized by every TCP
	// connection, HTTP or not.
	changed := map[key]bool{}
	for _, cs := range d.conns {
		var first [2]string // the first identity seen, per channel (proxy)
		for _, h := range cs.hs {
			h = h.root()
			if h.conn != cs || h.has(fUpstream) || h.identity == "" || !h.t2.ok() {
				continue
			}
			ch := 0
			if h.proxy {
				ch = 1
			}
			switch {
			case first[ch] == "":
				first[ch] = h.identity
			case !strings.EqualFold(first[ch], h.identity):
				changed[key{cs, h.proxy}] = true
			}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	var marked []*handshake
	onConn := map[key][]*handshake{}
	var keys []key
	for _, h := range d.logical {
		for _, c := range h.conns() {
			k := key{c, h.proxy}
			if !changed[k] {
				continue
			}
			if _, ok := onConn[k]; !ok {
				keys = append(keys, k)
			}
			onConn[k] = append(onConn[k], h)
		}
	}
	for _, k := range keys {
		cs := k.cs
		if cs.upstream {
			continue
		}
		var ids []string
		var f *finding
		for _, h := range onConn[k] {
			if h.conn != cs || h.identity == "" || !h.t2.ok() {
				continue
			}
			if len(ids) > 0 && !containsFold(ids, h.identity) {
				if f == nil {
					f = &finding{code: CodeChallengeServerChanged, time: h.t2.time()}
					f.conns = append(f.conns, cs)
				}
				f.count++
				f.frames = append(f.frames, frameOn(h.conn, h.t2.frame()))
			}
			if !containsFold(ids, h.identity) {
				ids = append(ids, h.identity)
			}
		}
		if f == nil {
			continue
		}
		marked = append(marked, onConn[k]...)
		f.msg = sprintf("client connection %s (%s → %s) received Type 2 messages from %d server identities (%s): "+
			"the balancer sends one client connection's requests to different backends", d.cref(cs),
			addrString(cs.clientAddr()), addrString(cs.serverAddr()), len(ids), strings.Join(ids, ", "))
		out.add(f)
	}
	return marked
}

// findRestarts pairs each failed or abandoned client-leg handshake with the
// next handshake the same client started within the restart window (same
// connection or another; a different known user is not a restart), in
// d.restarts. Each chain of restarts is a retry burst: Type 2 messages from
// different server identities within it are CHALLENGE_SERVER_CHANGED,
// reported in out; the handshakes of those bursts are returned for the
// caller to mark (fBurstChanged).
func (d *diagnosis) findRestarts(out *findingList) []*handshake {
	type key struct {
		client, user string
		proxy        bool
	}
	// Handshakes (sorted by start) per client and user; user "" holds
	// those no Type 3 attributes, "*" all of them. Only the clients of
	// failures are looked up.
	failing := map[string]bool{}
	for _, h := range d.logical {
		if h.failure() {
			failing[h.client] = true
		}
	}
	if len(failing) == 0 {
		return nil // no failure, no restart
	}
	groups := map[key][]*handshake{}
	for _, h := range d.logical {
		if !failing[h.client] {
			continue
		}
		u := ""
		if h.hasUser {
			u = h.userKey()
		}
		groups[key{h.client, u, h.proxy}] = append(groups[key{h.client, u, h.proxy}], h)
		if u != "" {
			groups[key{h.client, "*", h.proxy}] = append(groups[key{h.client, "*", h.proxy}], h)
		}
	}
	// firstFrom returns the first handshake of hs starting at or after t,
	// other than h, within the restart window.
	firstFrom := func(hs []*handshake, h *handshake, t time.Time) *handshake {
		i, _ := slices.BinarySearchFunc(hs, t, func(x *handshake, t time.Time) int { return x.start().Compare(t) })
		for ; i < len(hs); i++ {
			if hs[i] != h {
				if within(t, hs[i].start(), d.opts.RestartWindow) {
					return hs[i]
				}
				return nil
			}
		}
		return nil
	}
	earliest := func(a, b *handshake) *handshake {
		switch {
		case a == nil:
			return b
		case b == nil || a.start().Before(b.start()) || (a.start().Equal(b.start()) && a.id < b.id):
			return a
		}
		return b
	}
	// The maps below are slices indexed by handshake id: every record is
	// numbered (collectLogical), and maps keyed by pointers would cost
	// more than the rest of the step.
	numbered := func(h *handshake) bool {
		return h.id > 0 && int(h.id) <= len(d.records) && d.records[h.id-1] == h
	}
	// pos holds the position of each failure on its connection (the last
	// by id that lists it): only failures are looked up.
	pos := make([]int32, len(d.records)+1)
	for _, cs := range d.conns {
		for i, o := range cs.hs {
			if o.failure() && numbered(o) {
				pos[o.id] = int32(i)
			}
		}
	}
	next := make([]*handshake, len(d.records)+1)
	for _, h := range d.logical {
		if !h.failure() {
			continue
		}
		end := h.end()
		var n *handshake
		// On the same connection: the next handshake, however late.
		hs := h.t3conn.hs
		for i := int(pos[h.id]) + 1; i < len(hs); i++ {
			o := hs[i]
			o = o.root()
			if o != h && o.proxy == h.proxy && !o.start().Before(end) {
				n = o
				break
			}
		}
		// From the same client: the next one within the window, by the same
		// user (or by none known).
		if h.hasUser {
			n = earliest(n, firstFrom(groups[key{h.client, h.userKey(), h.proxy}], h, end))
			n = earliest(n, firstFrom(groups[key{h.client, "", h.proxy}], h, end))
		} else {
			n = earliest(n, firstFrom(groups[key{h.client, "", h.proxy}], h, end))
			n = earliest(n, firstFrom(groups[key{h.client, "*", h.proxy}], h, end))
		}
		if n == nil || (h.hasUser && n.hasUser && h.userKey() != n.userKey()) || !numbered(n) {
			continue
		}
		next[h.id] = n
		d.restarts = append(d.restarts, restart{h, n})
	}
	var marked []*handshake
	pointed := make([]bool, len(d.records)+1)
	for _, r := range d.restarts {
		pointed[r.to.id] = true
	}
	// The heads of chains, in the order of d.logical: restarts were
	// recorded in that order.
	for _, r := range d.restarts {
		h := r.from
		if pointed[h.id] {
			continue
		}
		var chain []*handshake
		var ids []string
		var seen map[*handshake]bool // once the chain is long
		// The check guards against a cycle: damaged timestamps can make
		// two handshakes each other's restart.
		for x := h; x != nil; x = next[x.id] {
			if seen != nil {
				if seen[x] {
					break
				}
				seen[x] = true
			} else if slices.Contains(chain, x) {
				break
			} else if len(chain) == 16 {
				seen = make(map[*handshake]bool, 32)
				for _, y := range chain {
					seen[y] = true
				}
				seen[x] = true
			}
			chain = append(chain, x)
			if x.identity != "" && !containsFold(ids, x.identity) {
				ids = append(ids, x.identity)
			}
		}
		if len(ids) < 2 {
			continue
		}
		f := &finding{code: CodeChallengeServerChanged, time: chain[0].start(), count: len(chain)}
		marked = append(marked, chain...)
		for _, x := range chain {
			f.conns = append(f.conns, x.conns()...)
			if x.t2.ok() {
				f.frames = append(f.frames, frameOn(x.conn, x.t2.frame()))
			}
			if x.hasUser {
				f.users = appendUnique(f.users, x.userName())
			}
		}
		f.msg = sprintf("client %s retried %s; its Type 2 messages came from %d server identities (%s): "+
			"the balancer sends the retries to different backends", h.client, plural(len(chain)-1, "time"), len(ids),
			strings.Join(ids, ", "))
		out.add(f)
	}
	return marked
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
