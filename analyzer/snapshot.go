package analyzer

import (
	"slices"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// Snapshot diagnoses what the analyzer has seen so far, as if the capture
// ended now, and returns the report without its connections (Connections
// is nil and EachConnection yields none; the summary still counts them).
// A live capture calls it every few seconds to print findings as they are
// detected.
//
// It changes nothing that FinishStreaming will report: the diagnosis
// rewrites connection and handshake state (it merges split halves, moves
// Type 3 messages, flags and numbers handshakes) and closing compacts it,
// so Snapshot runs both on a copy. Each analyzer's lock (the root's and
// every shard's) is held only while its connections are copied, so events
// keep flowing during the diagnosis, and every connection is copied as its
// last event left it: a connection still open is closed on the copy as
// FinishStreaming would close it, with the state of its last event rather
// than the reassembler's latest (a FIN with no event after it, say).
//
// Findings are therefore provisional until the capture ends: a handshake
// counts once its final response arrived, one still open is incomplete and
// reported by nothing, and later evidence can change a cause (a failed
// login is AUTH_FAILED until the same user succeeds from the same client,
// then INTERMITTENT_AUTH_FAILURE). Once every connection has closed, the
// findings equal those FinishStreaming reports.
//
// The cost is a copy of every HTTP connection's compact state (one
// connState, its handshakes and rare state) and a full diagnosis, about as
// much as FinishStreaming's diagnosis. Call it before FinishStreaming,
// never after.
func (a *Analyzer) Snapshot(src reassembly.SourceStats) *Report {
	var cp snapshotCopy
	a.mu.Lock()
	cp.take(a)
	for _, s := range a.shards {
		s.mu.Lock()
		cp.take(s)
		s.mu.Unlock()
	}
	opts := a.opts
	a.mu.Unlock()
	// The tables only grow, and what the copies index was added before
	// they were taken: slice headers taken now cover it.
	a.in.mu.Lock()
	lines, hashes := a.in.lines, a.in.hashes
	a.in.mu.Unlock()

	for _, cs := range cp.open {
		cs.settle()
		cs.live = nil
	}
	d := newDiagnosis(opts, cp.conns, src)
	d.lines, d.hashes = lines, hashes
	d.tlsWithoutKeys = cp.counts.tlsWithoutKeys
	d.run()
	cp.counts.opts = opts
	r := cp.counts.build(d, src)
	r.lazy = nil // the copies go with the diagnosis
	return r
}

// Findings returns the findings of [Analyzer.Snapshot]: what the analyzer
// has found so far, as if the capture ended now.
func (a *Analyzer) Findings() []Finding {
	return a.Snapshot(reassembly.SourceStats{}).Findings
}

// snapshotCopy collects the copies Snapshot diagnoses.
type snapshotCopy struct {
	conns []*connState // HTTP connections, as FinishStreaming picks them
	open  []*connState // those of conns still open, to settle
	// counts holds the sum of the analyzers' counters (build reads them
	// from an Analyzer), open connections counted as FinishStreaming
	// counts them.
	counts Analyzer
}

// take copies the HTTP connections and the counters of x, whose lock the
// caller holds. Before FinishStreaming every handshake is its
// connection's own (conn and t3conn point to it, nothing is merged or
// relayed, no connection is linked or upstream and none has findings):
// the copies start from that state, sharing nothing that the diagnosis
// writes. What they share with the originals (interned strings, names and
// addresses, encoded exchanges) is never written.
func (cp *snapshotCopy) take(x *Analyzer) {
	n, nh := 0, 0
	for _, cs := range x.all {
		if cs.http && cs.requests+cs.responses > 0 {
			n++
			nh += len(cs.hs)
		}
	}
	conns := make([]connState, n)
	hss := make([]handshake, nh)
	ptrs := make([]*handshake, nh)
	remap := map[*handshake]*handshake{}
	for _, cs := range x.all {
		if !cs.http || cs.requests+cs.responses == 0 {
			continue
		}
		c := &conns[0]
		conns = conns[1:]
		*c = *cs
		c.upstream = false
		clear(remap)
		c.hs, ptrs = ptrs[:len(cs.hs):len(cs.hs)], ptrs[len(cs.hs):]
		for i, h := range cs.hs {
			hc := &hss[0]
			hss = hss[1:]
			copyHandshake(hc, h, c)
			c.hs[i] = hc
			remap[h] = hc
		}
		own := func(h *handshake) *handshake {
			if h == nil {
				return nil
			}
			if hc := remap[h]; hc != nil {
				return hc
			}
			// Not one of the connection's: never so before Finish, but a
			// copy of its own keeps the diagnosis off the original.
			hc := &handshake{}
			copyHandshake(hc, h, c)
			remap[h] = hc
			return hc
		}
		if cs.x != nil {
			x := *cs.x
			c.x = &x
			if r := cs.x.rare; r != nil {
				rc := *r
				rc.linked, rc.findings = nil, nil
				rc.realClients = slices.Clip(rc.realClients)
				rc.kerbTokens = slices.Clip(rc.kerbTokens)
				rc.moreStatuses = slices.Clip(rc.moreStatuses)
				rc.reauths = slices.Clone(r.reauths)
				for i := range rc.reauths {
					rc.reauths[i].hs = own(rc.reauths[i].hs)
				}
				rc.shared = slices.Clone(r.shared)
				for i := range rc.shared {
					rc.shared[i].hs = own(rc.shared[i].hs)
				}
				x.rare = &rc
			}
		}
		if lv := cs.live; lv != nil {
			// Open: closed on the copy as FinishStreaming closes it.
			// settle reads only the channels.
			lc := &liveConn{ch: lv.ch}
			for ch := range lc.ch {
				lc.ch[ch].cur = own(lc.ch[ch].cur)
				lc.ch[ch].authed = own(lc.ch[ch].authed)
			}
			c.live = lc
			c.reqs = string(lv.reqs)
			if c.ended == reassembly.EndOpen {
				c.ended = reassembly.EndCapture
			}
			cp.open = append(cp.open, c)
		}
		cp.conns = append(cp.conns, c)
	}
	for _, cs := range x.byConn {
		cp.counts.countOpen(cs)
	}
	cp.counts.connCounts.add(&x.connCounts)
}

// copyHandshake makes hc a copy of h on connection c, with notes of its
// own (the diagnosis appends routes and sets hints).
func copyHandshake(hc, h *handshake, c *connState) {
	*hc = *h
	hc.conn, hc.t3conn = c, c
	hc.mergedInto, hc.relayOf = nil, nil
	if h.notes != nil {
		n := *h.notes
		n.route = slices.Clone(n.route)
		hc.notes = &n
	}
}
