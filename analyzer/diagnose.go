package analyzer

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// diagnosis holds the whole capture's state while Finish correlates and
// judges it. Steps run in a fixed order (run); each lives in its own file.
type diagnosis struct {
	opts  Options
	conns []*connState // HTTP connections, by id
	// lines and hashes are the analyzer's tables of request lines and
	// their hashes, which exchanges and requests index.
	lines  []reqLine
	hashes []uint64
	// records lists every handshake record, in order of first message
	// (split halves included until merged).
	records []*handshake
	// logical lists the client-leg handshakes the summary counts: split
	// halves once, relays not at all.
	logical []*handshake

	// clientByT2 and clientByT3 find a client-leg handshake by the keyed
	// hash of its Type 2 / Type 3 token.
	clientByT2, clientByT3 map[digest]*handshake
	// tlsWithoutKeys counts TLS connections nobody could look inside: the
	// NTLM they may carry is unseen.
	tlsWithoutKeys int64
	// proxyClients maps a client IP that is itself a proxy to the reason.
	proxyClients map[string]string
	// restarts pairs each restarted handshake with the one that restarted
	// it.
	restarts []restart
	// lastSuccess indexes the latest success per user and client.
	lastSuccess map[successKey]time.Time

	findings []*finding

	// agg computes the users and backends on another goroutine while
	// the findings are collected (see run); build takes them.
	agg struct {
		started  bool
		done     sync.WaitGroup
		users    []User
		backends []Backend
	}
}

// restart is a HANDSHAKE_RESTARTED occurrence.
type restart struct{ from, to *handshake }

func newDiagnosis(opts Options, conns []*connState) *diagnosis {
	slices.SortFunc(conns, func(a, b *connState) int { return cmp.Compare(a.id, b.id) })
	d := &diagnosis{opts: opts, conns: conns, proxyClients: map[string]string{}}
	for _, cs := range conns {
		d.records = append(d.records, cs.hs...)
	}
	sortHandshakes(d.records)
	return d
}

// sortHandshakes orders handshakes by first message (time, connection,
// frame): the order of ids and of every list built from them.
func sortHandshakes(hs []*handshake) {
	slices.SortStableFunc(hs, func(a, b *handshake) int {
		if c := cmp.Compare(a.startAt(), b.startAt()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.conn.id, b.conn.id); c != 0 {
			return c
		}
		return cmp.Compare(a.firstFrame(), b.firstFrame())
	})
}

// run performs the correlation and diagnosis steps in order.
func (d *diagnosis) run() {
	d.linkLegs()           // legs.go: which connections relay others
	d.markProxyClients()   // evidence.go: clients that are proxies
	d.repairInterleaved()  // evidence.go: a Type 3 back to the Type 2 it answers
	d.detachMisrouted()    // rematch.go: ... or to another connection's
	d.linkSplits()         // correlate.go: one handshake across connections
	d.markRoutedHere()     // rematch.go: split Type 3s that met another challenge
	d.checkEchoes()        // evidence.go: Type 3 vs its connection's Type 2
	d.collectLogical()     // the handshakes the summary counts
	d.mapRelays()          // legs.go: routes of relayed handshakes
	d.findProxyClients()   // evidence.go: CLIENT_IS_PROXY
	d.checkServerChanges() // correlate.go: identities per connection
	d.findRestarts()       // correlate.go: HANDSHAKE_RESTARTED and bursts
	d.findInterleaved()    // legs.go: both legs, handshakes multiplexed upstream
	d.findSharedUpstream() // legs.go: both legs, authenticated connections shared
	d.assignCauses()       // causes.go
	d.startAggregates()    // users.go: users and backends, on another core
	d.collectFindings()    // findings.go
}

// release drops what only run and build needed, once the report is built:
// the report builds its connections from conns (and the tables of lines),
// and a streaming report keeps the diagnosis until it is dropped.
func (d *diagnosis) release() {
	*d = diagnosis{opts: d.opts, conns: d.conns, lines: d.lines, hashes: d.hashes}
}

// collectLogical drops merged halves from the records, numbers the
// handshakes and picks the client-leg ones.
func (d *diagnosis) collectLogical() {
	kept := d.records[:0]
	for _, h := range d.records {
		if h.mergedInto == nil {
			kept = append(kept, h)
		}
	}
	d.records = kept
	sortHandshakes(d.records)
	d.clientByT2 = map[digest]*handshake{}
	d.clientByT3 = map[digest]*handshake{}
	for i, h := range d.records {
		h.id = int32(i + 1)
		h.flags &^= fUpstream
		if h.conn.upstream || h.t3conn.upstream {
			h.flags |= fUpstream
			continue
		}
		d.logical = append(d.logical, h)
		if h.hasT2 {
			d.clientByT2[h.t2Hash] = h
		}
		if h.hasT3 {
			d.clientByT3[h.t3Hash] = h
		}
	}
}

// within reports whether b follows a by at most w (b may equal a).
func within(a, b time.Time, w time.Duration) bool {
	dt := b.Sub(a)
	return dt >= 0 && dt <= w
}
