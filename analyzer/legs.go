package analyzer

import (
	"cmp"
	"slices"
	"time"
)

// tokenOcc is one appearance of a token on a connection.
type tokenOcc struct {
	cs      *connState
	time    time.Time
	request bool
}

// linkLegs links connections that carry the same token bytes (Type 2,
// Type 3, Kerberos; never Type 1, which clients send byte-identical on every
// connection) within the link window. For a request token the connection
// that carried it first is the client leg; for a Type 2 the connection that
// carried it first is the upstream one (the backend answered there first).
// A pair of connections that carried both kinds is judged by legVote's
// difference of delays, which two capture hosts' clocks cannot upset; else
// it takes the majority of its tokens' votes. A connection that relays any
// other is upstream, and so is every other connection from a balancer's
// address to one of its backends. A request token the same client sent
// again to the same server is no relay (resentBySameClient).
func (d *diagnosis) linkLegs() {
	n := 0 // the tokens, about: two per handshake
	for _, cs := range d.conns {
		n += 2 * len(cs.hs)
	}
	// The tokens are divided among goroutines by their hash (keyed, so
	// evenly): each counts the votes of its own.
	dv := divide(n, 1<<15)
	votes := make([]map[legPair]*legVote, dv.parts)
	dv.each(func(k, lo, hi int) { votes[k] = d.legVotes(k, dv.parts, hi-lo) })
	all := votes[0]
	for _, v := range votes[1:] {
		for p, x := range v {
			if y := all[p]; y != nil {
				y.add(x)
			} else {
				all[p] = x
			}
		}
	}
	pairs := make([]legPair, 0, len(all))
	for p := range all {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(x, y legPair) int {
		if c := cmp.Compare(x.a.id, y.a.id); c != 0 {
			return c
		}
		return cmp.Compare(x.b.id, y.b.id)
	})
	d.hasUpstream = len(pairs) > 0 // each pair makes one of its two upstream
	balancers, backends := map[string]bool{}, map[string]bool{}
	byFiles := d.poolByFiles(all)
	for _, p := range pairs {
		up := p.b
		if clientIsB(p, all[p], byFiles) {
			up = p.a
		}
		up.upstream = true
		p.a.link(p.b)
		p.b.link(p.a)
		if p.a.clientAddr() == p.b.clientAddr() && p.a.serverAddr() == p.b.serverAddr() {
			// One connection seen at two points (captures on the client
			// and on the server, or behind a balancer that keeps the
			// addresses): its "balancer" is the client itself, whose
			// other connections relay nothing.
			continue
		}
		balancers[up.clientIP()] = true
		backends[addrString(up.serverAddr())] = true
	}
	// The balancer's other connections to the same backends (a bare
	// request before any token, a request the balancer sent on a fresh
	// connection) are upstream too, though no token links them.
	for _, cs := range d.conns {
		if balancers[cs.clientIP()] && backends[addrString(cs.serverAddr())] {
			cs.upstream = true
		}
	}
}

// legPair is a pair of connections that carried the same token (a.id <
// b.id).
type legPair struct{ a, b *connState }

// legVote is what a pair's tokens say about which is the client leg.
//
// votes counts the tokens that say a (more say a than b when > 0): the
// one that carried a request token first, or a Type 2 last. Two capture
// hosts whose clocks differ by more than the balancer's delay turn those
// votes around. The delays do not: with b's timestamps less a's, a
// request token is late on the upstream leg by the balancer's delay and
// a response token early by its delay back, both shifted by the same
// clock offset. So the mean delay of the request tokens less that of the
// response tokens is the two delays' sum when b is upstream, and minus
// it when a is, whatever the offset: its sign decides a pair that carried
// both kinds.
type legVote struct {
	votes       int
	reqN, respN int
	reqD, respD time.Duration // sums of b's time less a's
}

// add sums o into v.
func (v *legVote) add(o *legVote) {
	v.votes += o.votes
	v.reqN += o.reqN
	v.respN += o.respN
	v.reqD += o.reqD
	v.respD += o.respD
}

// clientIsB reports whether b is the client leg.
func (v *legVote) clientIsB() bool {
	if v.reqN > 0 && v.respN > 0 {
		return float64(v.reqD)/float64(v.reqN) < float64(v.respD)/float64(v.respN)
	}
	return v.votes < 0
}

// filePair names two capture files, a < b.
type filePair struct{ a, b int32 }

// filesOf returns the captures of p's connections in order, and whether they
// are the other way around (a's file is the later).
func filesOf(p legPair) (filePair, bool) {
	if p.a.capture > p.b.capture {
		return filePair{p.b.capture, p.a.capture}, true
	}
	return filePair{p.a.capture, p.b.capture}, false
}

// poolByFiles sums the votes of the pairs that span two files by pair of
// files, oriented from the earlier file to the later: captures taken at
// the same time on two hosts (one each side of a balancer) are mostly one
// leg each, and their clocks differ by one offset, which the pooled delays
// cancel (see legVote) for a pair that carried only one kind of token, as a
// balancer that routes each request makes them. A chain of files (a ring
// buffer's, see reassembly.FrameLocator) is one capture. Captures that do
// not overlap in time for at least half of the shorter one's span are not
// pooled: one host's captures one after another have one clock, and the
// pairs across them lead each way.
func (d *diagnosis) poolByFiles(all map[legPair]*legVote) map[filePair]*legVote {
	type span struct{ first, last nanotime }
	spans := map[int32]*span{}
	for _, cs := range d.conns {
		sp := spans[cs.capture]
		if sp == nil {
			spans[cs.capture] = &span{cs.start, cs.end}
			continue
		}
		sp.first, sp.last = min(sp.first, cs.start), max(sp.last, cs.end)
	}
	together := func(fp filePair) bool {
		a, b := spans[fp.a], spans[fp.b]
		overlap := min(a.last, b.last) - max(a.first, b.first)
		return overlap > 0 && 2*overlap >= min(a.last-a.first, b.last-b.first)
	}
	pooled := map[filePair]*legVote{}
	for p, v := range all {
		if p.a.capture == p.b.capture {
			continue
		}
		fp, flip := filesOf(p)
		if !together(fp) {
			continue
		}
		x := pooled[fp]
		if x == nil {
			x = &legVote{}
			pooled[fp] = x
		}
		o := *v
		if flip {
			o.votes, o.reqD, o.respD = -o.votes, -o.reqD, -o.respD
		}
		x.add(&o)
	}
	return pooled
}

// clientIsB decides which of p's connections is the client leg: by its own
// tokens' delays when it carried both kinds, else by the delays of all
// the tokens between the two files when it spans two and they carried
// both, else by its votes.
func clientIsB(p legPair, v *legVote, byFiles map[filePair]*legVote) bool {
	if (v.reqN == 0 || v.respN == 0) && p.a.capture != p.b.capture {
		fp, flip := filesOf(p)
		if f := byFiles[fp]; f != nil && f.reqN > 0 && f.respN > 0 {
			return f.clientIsB() != flip
		}
	}
	return v.clientIsB()
}

// legVotes counts the votes of the tokens whose hash's first byte is k
// modulo parts (about n of them), for each pair of connections that
// carried one (legVote).
func (d *diagnosis) legVotes(k, parts, n int) map[legPair]*legVote {
	// The occurrences of each token, in order, as lists linked through
	// next: nearly every token appears once, and a slice each would cost
	// an allocation per token of the capture.
	type chain struct{ first, last int32 }
	n += n / 8 // the parts are about even
	all, next := make([]tokenOcc, 0, n), make([]int32, 0, n)
	byHash := make(map[digest]chain, n)
	// mine says whether a token is this part's; it is asked before the
	// occurrence is built.
	mine := func(hash digest) bool { return int(hash[0])%parts == k }
	add := func(hash digest, o tokenOcc) {
		i := int32(len(all))
		all, next = append(all, o), append(next, -1)
		if c, ok := byHash[hash]; ok {
			next[c.last] = i
			byHash[hash] = chain{c.first, i}
			return
		}
		byHash[hash] = chain{i, i}
	}
	for _, cs := range d.conns {
		for _, h := range cs.hs {
			if h.hasT2 && h.conn == cs && mine(h.t2Hash) {
				add(h.t2Hash, tokenOcc{cs, h.t2.time(), false})
			}
			if h.hasT3 && h.t3conn == cs && mine(h.t3Hash) {
				add(h.t3Hash, tokenOcc{cs, h.t3.time(), true})
			}
		}
		for _, k := range cs.rare().kerbTokens {
			if mine(k.hash) {
				add(k.hash, tokenOcc{cs, k.time, k.request})
			}
		}
	}
	votes := map[legPair]*legVote{}
	var occs []tokenOcc
	for _, c := range byHash {
		if c.first == c.last {
			continue
		}
		occs = occs[:0]
		for i := c.first; i >= 0; i = next[i] {
			occs = append(occs, all[i])
		}
		slices.SortFunc(occs, func(x, y tokenOcc) int {
			if c := x.time.Compare(y.time); c != 0 {
				return c
			}
			return cmp.Compare(x.cs.id, y.cs.id)
		})
		first := occs[0]
		for _, o := range occs[1:] {
			if o.cs == first.cs || !within(first.time, o.time, d.opts.LinkWindow) || resentBySameClient(first, o) {
				continue
			}
			client, up := first.cs, o.cs
			if !first.request {
				client, up = o.cs, first.cs
			}
			p, v := legPair{client, up}, 1
			if p.a.id > p.b.id {
				p, v = legPair{up, client}, -1
			}
			x := votes[p]
			if x == nil {
				x = &legVote{}
				votes[p] = x
			}
			x.votes += v
			// b's time less a's: o's less first's when o is b.
			delay := o.time.Sub(first.time)
			if p.a == o.cs {
				delay = -delay
			}
			if first.request {
				x.reqN++
				x.reqD += delay
			} else {
				x.respN++
				x.respD += delay
			}
		}
	}
	return votes
}

// resentBySameClient reports whether o is a request token that the client of first
// sent again to the same server on another connection: a request repeated
// after its connection died unanswered (see linkSplits), not one relayed
// by a proxy, whose upstream connection comes from the proxy's address or
// goes to a backend, not to the address the client used.
//
// The same four addresses in two captures are one connection captured twice
// (on the client's host and on the server's), not a resend: its request
// tokens tell the legs apart as a relay's do.
func resentBySameClient(first, o tokenOcc) bool {
	if first.cs.capture != o.cs.capture && first.cs.clientAddr() == o.cs.clientAddr() {
		return false
	}
	return first.request && o.request && first.cs.clientIP() == o.cs.clientIP() &&
		first.cs.serverAddr() == o.cs.serverAddr()
}

// link records that cs and o share NTLM tokens.
func (cs *connState) link(o *connState) {
	r := cs.rareRW()
	if r.linked == nil {
		r.linked = map[*connState]bool{}
	}
	r.linked[o] = true
}

// addRoute appends a step to a relayed handshake's route.
func (h *handshake) addRoute(r RouteStep) {
	n := h.notesRW()
	n.route = append(n.route, r)
}

// mapRelays ties each upstream handshake to the client-leg handshake it
// relays, and records the route of each relayed handshake: which upstream
// connection (and backend) each step crossed. A Type 2 and a Type 3 that
// came over one client connection but crossed different upstream
// connections prove the balancer moved the handshake.
func (d *diagnosis) mapRelays() {
	type legs struct{ t2, t3 *handshake }
	routes := map[*handshake]*legs{}
	for _, u := range d.records {
		if !u.has(fUpstream) {
			continue
		}
		if u.hasT2 && u.conn.upstream {
			if c := d.clientByT2[u.t2Hash]; c != nil {
				u.relayOf = c
				r := routes[c]
				if r == nil {
					r = &legs{}
					routes[c] = r
				}
				r.t2 = u
			}
		}
		if u.hasT3 && u.t3conn.upstream {
			if c := d.clientByT3[u.t3Hash]; c != nil {
				u.relayOf = c
				r := routes[c]
				if r == nil {
					r = &legs{}
					routes[c] = r
				}
				r.t3 = u
			}
		}
	}
	for _, c := range d.logical {
		r := routes[c]
		if r == nil {
			continue
		}
		if u := r.t2; u != nil {
			if u.t1.ok() {
				c.addRoute(RouteStep{Step: "type1", Connection: int(u.conn.id), Server: addrString(u.conn.serverAddr()), Identity: u.identity})
			}
			c.addRoute(RouteStep{Step: "type2", Connection: int(u.conn.id), Server: addrString(u.conn.serverAddr()), Identity: u.identity})
		}
		if u := r.t3; u != nil {
			id := ""
			if u.t2.ok() && u.conn == u.t3conn {
				id = u.identity
			}
			c.addRoute(RouteStep{Step: "type3", Connection: int(u.t3conn.id), Server: addrString(u.t3conn.serverAddr()), Identity: id})
			if u.final.ok() {
				c.addRoute(RouteStep{Step: "final", Connection: int(u.t3conn.id), Server: addrString(u.t3conn.serverAddr()), Identity: id})
			}
		}
		// Type 2 and Type 3 on different upstream connections blame the
		// balancer only when both came over one client connection: a
		// client that split the handshake across its own connections
		// (each relayed to one upstream connection, as in TCP mode) moved
		// it itself, and splitCause judges it on the client leg.
		moved := r.t2 != nil && r.t3 != nil && r.t2.conn != r.t3.t3conn && c.conn == c.t3conn
		if moved || (r.t3 != nil && r.t3.has(fEchoMismatch)) {
			c.flags |= fRoutedDifferently
		}
		if (r.t2 != nil && r.t2.has(fInterleaved)) || (r.t3 != nil && r.t3.has(fInterleaved)) {
			c.flags |= fInterleaved
		}
	}
}

// upstreamEvent is an NTLM message on an upstream connection, with the
// client connection it belongs to.
type upstreamEvent struct {
	time   time.Time
	frame  int64
	client *connState
	hs     *handshake // the client-leg handshake
}

// findInterleaved reports upstream connections on which handshakes of two
// client connections interleave: after a Type 2 relayed to one client, the
// next NTLM message belongs to another.
func (d *diagnosis) findInterleaved() {
	for _, y := range d.conns {
		if !y.upstream {
			continue
		}
		var evs []upstreamEvent
		seen := map[*handshake]bool{}
		for _, u := range y.hs {
			u = u.root()
			if u.relayOf == nil || seen[u] {
				continue
			}
			seen[u] = true
			c := u.relayOf
			if u.hasT2 && u.conn == y && d.clientByT2[u.t2Hash] == c {
				evs = append(evs, upstreamEvent{u.t2.time(), u.t2.frame(), c.conn, c})
			}
			if u.hasT3 && u.t3conn == y && d.clientByT3[u.t3Hash] == c {
				evs = append(evs, upstreamEvent{u.t3.time(), u.t3.frame(), c.t3conn, c})
			}
		}
		slices.SortFunc(evs, func(a, b upstreamEvent) int { return a.time.Compare(b.time) })
		var f *finding
		for i := 0; i+1 < len(evs); i++ {
			if evs[i].client == evs[i+1].client {
				continue
			}
			if f == nil {
				f = &finding{code: CodeInterleavedHandshakes, time: evs[i].time}
				f.conns = append(f.conns, y)
			}
			f.count++
			evs[i].hs.flags |= fInterleaved
			evs[i+1].hs.flags |= fInterleaved
			f.conns = append(f.conns, evs[i].client, evs[i+1].client)
			f.frames = append(f.frames, frameOn(y, evs[i].frame), frameOn(y, evs[i+1].frame))
		}
		if f != nil {
			f.msg = sprintf("handshakes of %d client connections interleave on upstream connection %s (%s → %s): "+
				"the balancer multiplexes NTLM handshakes over one backend connection", len(dedupeConns(f.conns))-1,
				d.cref(y), addrString(y.clientAddr()), addrString(y.serverAddr()))
			d.add(f)
		}
	}
}

// findSharedUpstream reports upstream connections that, once authenticated
// for one client connection, carry requests of another: each request
// without credentials on the upstream connection is matched to the latest
// client-leg request with the same request line within the link window.
func (d *diagnosis) findSharedUpstream() {
	type creq struct {
		cs   *connState
		time time.Time
	}
	if !d.hasUpstream {
		return
	}
	index := map[uint64][]creq{}
	for _, cs := range d.conns {
		if cs.upstream {
			continue
		}
		for r := range eachReq(cs.reqs, d.hashes) {
			index[r.lineHash()] = append(index[r.lineHash()], creq{cs, r.time()})
		}
	}
	for _, cands := range index {
		slices.SortStableFunc(cands, func(a, b creq) int { return a.time.Compare(b.time) })
	}
	for _, y := range d.conns {
		if !y.upstream {
			continue
		}
		var f *finding
		users := map[string]bool{}
		for _, u := range y.hs {
			if u.relayOf == nil || u.outcome() != OutcomeSucceeded || u.t3conn != y || !u.final.ok() {
				continue
			}
			owner := u.relayOf.t3conn
			until := y.end.time().Add(time.Nanosecond)
			for _, n := range y.hs {
				if s := n.start(); s.After(u.final.time()) && s.Before(until) {
					until = s
				}
			}
			for r := range eachReq(y.reqs, d.hashes) {
				rt := r.time()
				if r.hasAuth() || !rt.After(u.final.time()) || !rt.Before(until) {
					continue
				}
				var best *creq
				cands := index[r.lineHash()]
				i, _ := slices.BinarySearchFunc(cands, rt.Add(-d.opts.LinkWindow), func(c creq, t time.Time) int {
					return c.time.Compare(t)
				})
				for j := i; j < len(cands) && !cands[j].time.After(rt); j++ {
					c := &cands[j]
					if c.cs == owner {
						best = c
						break
					}
					best = c
				}
				if best == nil || best.cs == owner {
					continue
				}
				if f == nil {
					f = &finding{code: CodeAuthenticatedConnShared, time: rt}
					f.conns = append(f.conns, y, owner)
				}
				f.count++
				f.conns = append(f.conns, best.cs)
				f.frames = append(f.frames, frameOn(y, r.frame))
				users[u.relayOf.userName()] = true
			}
		}
		if f != nil {
			for n := range users {
				f.users = append(f.users, n)
			}
			f.msg = sprintf("upstream connection %s (%s → %s), authenticated for client connection %s, carried %d "+
				"request(s) of other client connections: they ran as %s", d.cref(y), addrString(y.clientAddr()),
				addrString(y.serverAddr()), d.cref(f.conns[1]), f.count, joinSorted(f.users))
			d.add(f)
		}
	}
}
