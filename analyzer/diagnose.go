package analyzer

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/ntlmscope/ntlmscope/reassembly"
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
	// byT2Key lists the records whose Type 2 carries a timestamp, by the
	// keyed hash of its identity and timestamp, as the state machine left
	// them (detachMisrouted). Detaching moves a Type 2 to a new record, so
	// the lists' lengths, the Type 2 messages per key, stay true for
	// linkSplits (echoWindow).
	byT2Key map[digest][]*handshake

	// clientByT2 and clientByT3 find a client-leg handshake by the keyed
	// hash of its Type 2 / Type 3 token.
	clientByT2, clientByT3 map[digest]*handshake
	// hasUpstream says whether linkLegs found any upstream connection.
	hasUpstream bool
	// tlsWithoutKeys counts TLS connections nobody could look inside: the
	// NTLM they may carry is unseen.
	tlsWithoutKeys int64
	// truncated counts the TCP segments the capture's snapshot length cut
	// short where NTLM headers may have been (connCounts.truncatedHTTP).
	truncated int64
	// labels names the run's capture files in messages (FileLabels;
	// see cref).
	labels []string
	// frames gives the frames of connections that span a chain of files
	// (a ring buffer's) their own file's numbers; nil when none does.
	frames *reassembly.FrameLocator
	// proxyClients maps a client IP that is itself a proxy to the reason.
	proxyClients map[string]string
	// restarts pairs each restarted handshake with the one that restarted
	// it.
	restarts []restart
	// lastSuccess indexes the latest success per user and client.
	lastSuccess map[successKey]time.Time

	findings findingList

	// agg computes the users and backends on another goroutine while
	// the steps after collectLogical run (see run); build takes them.
	agg struct {
		started  bool
		counted  bool // the restarts, into users
		done     sync.WaitGroup
		users    []User
		keys     []string // of users
		backends []Backend
	}
}

// restart is a HANDSHAKE_RESTARTED occurrence.
type restart struct{ from, to *handshake }

func newDiagnosis(opts Options, conns []*connState, src reassembly.SourceStats) *diagnosis {
	slices.SortFunc(conns, func(a, b *connState) int { return cmp.Compare(a.id, b.id) })
	d := &diagnosis{opts: opts, conns: conns, proxyClients: map[string]string{}, labels: FileLabels(opts.reportFiles(src)),
		frames: reassembly.NewFrameLocator(src)}
	n := 0
	for _, cs := range conns {
		n += len(cs.hs)
	}
	d.records = make([]*handshake, 0, n)
	for _, cs := range conns {
		d.records = append(d.records, cs.hs...)
		cs.capture = int32(d.frames.ChainOf(int(cs.file)))
	}
	return d // run sorts the records
}

// hsSortKey is what sortHandshakes orders handshakes by.
type hsSortKey struct {
	at    nanotime
	frame int64
	conn  int32
}

// sortKey returns h's hsSortKey.
func (h *handshake) sortKey() hsSortKey {
	return hsSortKey{h.startAt(), h.firstFrame(), h.conn.id}
}

// compare orders by time, then connection, then frame.
func (a hsSortKey) compare(b hsSortKey) int {
	return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.conn, b.conn), cmp.Compare(a.frame, b.frame))
}

// sortHandshakes orders handshakes by first message (time, connection,
// frame): the order of ids and of every list built from them. The order
// is stable: handshakes equal in all three keep their order.
func sortHandshakes(hs []*handshake) {
	// Most calls find the list sorted (as collectLogical finds it, unless
	// halves were merged): one pass through the pointers says so without
	// the keys' memory. Equal keys keep their order, as below.
	if slices.IsSortedFunc(hs, func(a, b *handshake) int { return a.sortKey().compare(b.sortKey()) }) {
		return
	}
	// The keys are read once into a slice: comparing them through the
	// pointers costs more than the sort.
	type keyed struct {
		k hsSortKey
		i int32
		h *handshake
	}
	ks := make([]keyed, len(hs))
	for i, h := range hs {
		ks[i] = keyed{h.sortKey(), int32(i), h}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Or(a.k.compare(b.k), cmp.Compare(a.i, b.i)) })
	for i := range ks {
		hs[i] = ks[i].h
	}
}

// run performs the correlation and diagnosis steps in order.
func (d *diagnosis) run() {
	// Sorting the records and linking the legs are independent: the one
	// orders d.records, the other reads the connections' own lists and
	// writes connection state the sort does not read.
	var sorted sync.WaitGroup
	sorted.Go(func() { sortHandshakes(d.records) })
	d.linkLegs() // legs.go: which connections relay others
	sorted.Wait()
	d.markProxyClients()   // evidence.go: clients that are proxies
	d.repairInterleaved()  // evidence.go: a Type 3 back to the Type 2 it answers
	d.detachMisrouted()    // rematch.go: ... or to another connection's
	d.linkSplits()         // correlate.go: one handshake across connections
	d.markRoutedHere()     // rematch.go: split Type 3s that met another challenge
	d.checkEchoes()        // evidence.go: Type 3 vs its connection's Type 2
	d.collectLogical()     // the handshakes the summary counts
	d.startAggregates()    // users.go: users and backends, on another core
	d.indexClientTokens()  // client-leg handshakes by token
	d.mapRelays()          // legs.go: routes of relayed handshakes
	d.findProxyClients()   // evidence.go: CLIENT_IS_PROXY
	d.findServerChanges()  // correlate.go: CHALLENGE_SERVER_CHANGED, HANDSHAKE_RESTARTED
	d.findInterleaved()    // legs.go: both legs, handshakes multiplexed upstream
	d.findSharedUpstream() // legs.go: both legs, authenticated connections shared
	d.assignCauses()       // causes.go
	d.collectFindings()    // findings.go
	d.markFindings()       // findings.go: each connection's codes
	d.sortFindings()       // build.go: the order the report and verdict read
}

// release drops what only run and build needed, once the report is built:
// the report builds its connections from conns (and the tables of lines),
// and a streaming report keeps the diagnosis until it is dropped.
func (d *diagnosis) release() {
	*d = diagnosis{opts: d.opts, conns: d.conns, lines: d.lines, hashes: d.hashes, frames: d.frames}
}

// findServerChanges runs checkServerChanges and findRestarts side by side:
// both only read the handshakes, so each collects its findings and the
// handshakes to flag, and the flags and findings are applied after, in the
// order the two would have run.
func (d *diagnosis) findServerChanges() {
	var conns, bursts findingList
	var connChanged []*handshake
	var wg sync.WaitGroup
	wg.Go(func() { connChanged = d.checkServerChanges(&conns) })
	burstChanged := d.findRestarts(&bursts)
	wg.Wait()
	for _, h := range connChanged {
		h.flags |= fConnChanged
	}
	for _, h := range burstChanged {
		h.flags |= fBurstChanged
	}
	d.findings = append(d.findings, conns...)
	d.findings = append(d.findings, bursts...)
}

// collectLogical drops merged halves from the records, numbers the
// handshakes and picks the client-leg ones (logical).
func (d *diagnosis) collectLogical() {
	kept := d.records[:0]
	for _, h := range d.records {
		if h.mergedInto == nil {
			kept = append(kept, h)
		}
	}
	d.records = kept
	sortHandshakes(d.records)
	for i, h := range d.records {
		h.id = int32(i + 1)
		h.flags &^= fUpstream
		if h.conn.upstream || h.t3conn.upstream {
			h.flags |= fUpstream
			continue
		}
		d.logical = append(d.logical, h)
	}
}

// indexClientTokens indexes the client-leg handshakes by their Type 2 and
// Type 3 hashes (clientByT2, clientByT3). Only handshakes on upstream
// connections are looked up: without any (a capture of one leg), the maps
// stay empty.
func (d *diagnosis) indexClientTokens() {
	if !d.hasUpstream {
		return
	}
	d.clientByT2 = map[digest]*handshake{}
	d.clientByT3 = map[digest]*handshake{}
	for _, h := range d.logical {
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
