package analyzer

import (
	"slices"
	"time"
)

// Rematching Type 3 messages on a proxy's connections.
//
// The state machine pairs each Type 3 with the Type 2 its connection
// carried last. On a client's own connection that is always right: a client
// echoes the Type 2 it received. On a proxy's connection (an upstream
// connection, or a "client" that is a proxy: X-Forwarded-For, Via, several
// users) it is only a guess: a balancer that pools or multiplexes backend
// connections sends each request wherever it likes, so a Type 3 may answer
// a Type 2 that another of its connections carried, for another client.
// The echo is the proof: the server identity and MsvAvTimestamp a Type 3
// echoes (compared as keyed hashes) name the one Type 2 it answers.

// detachMisrouted splits every handshake record of a proxy's connection
// whose Type 3 echoes a Type 2 carried by another connection of the same leg
// for the same real client (see echoedElsewhere): the Type 1/Type 2 half
// becomes a record of its own, open for the Type 3 that answers it, and the
// Type 3 is left alone on its connection, for linkSplits to join with the
// half it echoes. Records without an exact echo, or whose echoed Type 2 is
// not in the capture, keep the state machine's pairing (checkEchoes then
// reports the mismatch).
func (d *diagnosis) detachMisrouted() {
	byKey := map[digest][]*handshake{}
	for _, o := range d.records {
		if o.t2.ok() && o.t2TS {
			byKey[o.idKey] = append(byKey[o.idKey], o)
		}
	}
	d.byT2Key = byKey
	// Decide on the records as the state machine left them, then detach:
	// two Type 3 messages that crossed each need the other's record
	// intact. A record whose echoed half holds a misfit Type 3 of its own
	// is detached only if that one is too (repeat until nothing changes).
	misrouted := map[*handshake]bool{}
	for _, h := range d.records {
		if h.t2.ok() && h.t3.ok() && h.conn == h.t3conn && misfit(h) && d.proxyConn(h.conn) {
			misrouted[h] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, h := range d.records {
			if misrouted[h] && !d.echoedElsewhere(h, byKey[h.echoKey], misrouted) {
				delete(misrouted, h)
				changed = true
			}
		}
	}
	if len(misrouted) == 0 {
		return
	}
	for _, h := range d.records {
		if misrouted[h] {
			d.records = append(d.records, d.detach(h))
		}
	}
	sortHandshakes(d.records)
}

// misfit reports a Type 3 that echoes exactly another Type 2 than the one
// its record holds.
func misfit(h *handshake) bool {
	return h.echoTS && h.t2TS && h.echoKey != h.idKey
}

// echoedElsewhere reports whether one of cands (the records whose Type 2
// has the key h's Type 3 echoes) is on another connection of the same leg,
// for the same real client, before the Type 3, and free for it: without a
// Type 3, or with a misfit one that is itself to be detached (in misrouted:
// two Type 3 messages crossed, each to the other's connection). How long
// before the Type 3 the Type 2 may be: see echoWindow (cands are all the
// Type 2 messages with the key).
func (d *diagnosis) echoedElsewhere(h *handshake, cands []*handshake, misrouted map[*handshake]bool) bool {
	for _, o := range cands {
		if o == h || o.mergedInto != nil || o.conn == h.conn || o.proxy != h.proxy || o.conn.upstream != h.conn.upstream ||
			o.client != h.t3client || !within(o.t2.time(), h.t3.time(), d.echoWindow(len(cands))) {
			continue
		}
		if !o.t3.ok() || misrouted[o] {
			return true
		}
	}
	return false
}

// detach moves the Type 1/Type 2 half of h into a new record on the same
// connection and returns it; h keeps the Type 3, what followed it and the
// requests served on its strength (so the connection's authentication,
// re-authentications and shared uses still point at it). The half is
// abandoned until a Type 3 on another connection is joined with it.
func (d *diagnosis) detach(h *handshake) *handshake {
	const halfFlags = fClientAskedClose | fServerSaidClose | fNotChallenged | fResponseLost
	h0 := &handshake{
		proxy: h.proxy, scheme: h.scheme, spnego: h.spnego, conn: h.conn, t3conn: h.conn, client: h.client,
		open: h.open, t1: h.t1, t2: h.t2, requests: h.requests - 1,
		identity: h.identity, idKey: h.idKey, t2TS: h.t2TS, t2Hash: h.t2Hash, hasT2: h.hasT2,
		t2ClientGaps: h.t2ClientGaps, flags: h.flags & halfFlags, outcomeL: labelAbandoned, lastAuthUse: noTime,
	}
	h0.setHints(h.note().t2Hint, "")
	h.setHints("", h.note().finalHint)
	h.open, h.t1, h.t2, h.requests = step{}, step{}, step{}, 1
	h.identity, h.idKey, h.t2TS, h.t2Hash, h.hasT2, h.t2ClientGaps = "", digest{}, false, digest{}, false, 0
	h.flags &^= halfFlags
	h.client = h.t3client
	cs := h.conn
	// The exchange records name handshakes by their index in cs.hs: read
	// them before h0 joins it, and write them again after.
	var ex []exchRec
	for e := range cs.eachExchange(d.hashes) {
		ex = append(ex, e)
	}
	if i := slices.Index(cs.hs, h); i >= 0 {
		cs.hs = slices.Insert(cs.hs, i, h0)
	} else {
		cs.hs = append(cs.hs, h0)
	}
	if len(ex) > 0 {
		for i := range ex {
			if ex[i].hs == h && ex[i].reqFrame < h.t3.frame() {
				ex[i].hs = h0
			}
		}
		var scratch []byte
		cs.x.exchanges = encodeExchanges(len(ex), func(i int) *exchRec { return &ex[i] }, cs.hs, &scratch)
	}
	return h0
}

// markRoutedHere flags the split handshakes whose Type 3 reached a proxy's
// connection that had carried another Type 2 last: on an upstream
// connection that is TYPE3_ROUTED_TO_OTHER_BACKEND (the balancer sent the
// Type 3 to a backend connection whose challenge it does not answer), not
// a Type 3 "without challenge". Run after linkSplits.
func (d *diagnosis) markRoutedHere() {
	var byConn map[*connState][]*handshake // records by the connection of their Type 2, by time
	for _, h := range d.records {
		if h.mergedInto != nil || !h.has(fSplit) || !h.t3.ok() || !d.proxyConn(h.t3conn) {
			continue
		}
		if byConn == nil {
			byConn = map[*connState][]*handshake{}
			for _, o := range d.records {
				if o.t2.ok() {
					byConn[o.conn] = append(byConn[o.conn], o)
				}
			}
			for _, hs := range byConn {
				slices.SortStableFunc(hs, func(a, b *handshake) int { return a.t2.time().Compare(b.t2.time()) })
			}
		}
		hs := byConn[h.t3conn]
		i, _ := slices.BinarySearchFunc(hs, h.t3.time(), func(o *handshake, t time.Time) int { return o.t2.time().Compare(t) })
		if i == 0 {
			continue
		}
		last := hs[i-1]
		if h.echoTS && last.t2TS && last.idKey == h.echoKey {
			continue
		}
		h.flags |= fRoutedHere
		n := h.notesRW()
		n.hereT2, n.hereIdentity = last.t2, last.identity
	}
}
