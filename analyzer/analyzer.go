// Package analyzer turns the HTTP exchanges of a capture into a diagnosis of
// NTLM authentication: a state machine per connection (server and proxy
// auth, NTLM and Negotiate-wrapped NTLM), correlation across connections
// (split handshakes, retries, the two legs of a proxy), findings with their
// evidence, and a verdict with remedies.
//
// It consumes [reassembly.Handler] events and produces a [Report]; it reads
// no packets and renders nothing. It never keeps a token: only decoded
// non-secret fields and hashes keyed with a per-run key.
package analyzer

import (
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/freelist"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// Defaults for Options.
const (
	// DefaultRestartWindow is how soon after a failed or abandoned
	// handshake a new one by the same client counts as a restart.
	DefaultRestartWindow = 30 * time.Second
	// DefaultLinkWindow bounds the time between the halves of a split
	// handshake matched without an exact echo of the Type 2's timestamp,
	// and between a token on the client leg and its relay upstream. Ten
	// seconds covers a browser's credential round trips and a slow
	// backend, while keeping unrelated handshakes of a busy client apart
	// (they are matched by keyed hashes anyway). A Type 3 that echoes the
	// identity and timestamp of the only Type 2 with them is matched up
	// to two minutes later (exactEchoWindow).
	DefaultLinkWindow = 10 * time.Second
)

// Options configure an Analyzer. The zero value uses the defaults.
type Options struct {
	// RestartWindow: see DefaultRestartWindow (--restart-window).
	RestartWindow time.Duration
	// LinkWindow: see DefaultLinkWindow.
	LinkWindow time.Duration
	// HashKey keys the hashes that compare challenges and tokens; nil
	// draws a random one.
	HashKey []byte
	// ToolVersion goes to Report.Tool.Version.
	ToolVersion string
	// Files goes to Report.Source.Files (SourceStats.Files when nil).
	Files []string
}

// Analyzer collects the reassembler's events and builds the report. It
// implements [reassembly.Handler] and is safe for concurrent use by several
// reassembly workers; the report does not depend on how the events of
// different connections interleave (only each connection's own order
// matters).
//
// Memory: an open connection holds its unanswered requests (what the state
// machines need of each until its response, never the reassembler's
// Message, which is valid only during the call) and up to maxExchanges
// exchange records. When it closes, it is compacted to what Finish and the
// report need: 160 bytes, about 8 per request (for linking the legs of a
// proxy), 288 per handshake, and, when it carried authentication, 48 more
// and its exchange records (about 11 bytes each, at most
// maxHealthyExchanges when it closed healthy). Requests and exchanges are
// encoded as varints (compact.go); addresses, strings and what Type 3
// messages name are interned, and nothing kept shares a message's header
// block.
type Analyzer struct {
	opts Options

	mu sync.Mutex
	// hash and ic are used under mu only; in, which the shards share,
	// has a lock of its own.
	hash    *hasher
	in      *interner
	ic      internCache // a.in's front for this Analyzer (see internCache)
	byConn  map[*reassembly.Conn]*connState
	all     []*connState
	free    freelist.List[*liveConn] // live states of closed connections, for reuse
	scratch []byte                   // encoding exchange records
	// chunks keeps the exchange chunks of closed connections for reuse;
	// conns and handshakes allocate what connections and handshakes keep
	// to the end (slab.go).
	chunks     chunkPool
	conns      slab[connState]
	handshakes slab[handshake]

	connCounts

	// shards are the Analyzers handed to the workers of a sharded run
	// (shard.go); FinishStreaming merges them.
	shards []*Analyzer
}

// New returns an Analyzer.
func New(opts Options) *Analyzer {
	if opts.RestartWindow <= 0 {
		opts.RestartWindow = DefaultRestartWindow
	}
	if opts.LinkWindow <= 0 {
		opts.LinkWindow = DefaultLinkWindow
	}
	key := opts.HashKey
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic("analyzer: no randomness for the hash key: " + err.Error())
		}
	}
	opts.HashKey = key
	in := newInterner()
	return &Analyzer{
		opts:   opts,
		hash:   newHasher(key),
		in:     in,
		ic:     internCache{in: in},
		byConn: map[*reassembly.Conn]*connState{},
	}
}

// conn returns the state of c, creating it on first sight. The state is
// kept in c.HandlerState too, which spares a map lookup on every event;
// byConn still finds the connections open at the end. A state there that
// is not this Analyzer's own open one (events replayed into a second
// Analyzer) is ignored.
func (a *Analyzer) conn(c *reassembly.Conn) *connState {
	if cs, ok := c.HandlerState.(*connState); ok && cs.live != nil && cs.live.owner == a {
		return cs
	}
	cs := a.byConn[c]
	if cs == nil {
		cs = a.newConnState(c)
		a.byConn[c] = cs
		if len(a.all) == cap(a.all) {
			// Double the list: append grows a long one by a quarter,
			// which allocates, in all, five times its final size on its
			// way to a large capture's hundred thousand connections.
			a.all = slices.Grow(a.all, max(len(a.all), 256))
		}
		a.all = append(a.all, cs)
	}
	c.HandlerState = cs
	return cs
}

// ConnectionOpened implements reassembly.Handler.
func (a *Analyzer) ConnectionOpened(c *reassembly.Conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn(c).http = true
}

// Request implements reassembly.Handler.
func (a *Analyzer) Request(c *reassembly.Conn, req *reassembly.Message) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cs := a.conn(c)
	cs.http = true
	cs.touch(c)
	cs.request(a, req)
}

// Response implements reassembly.Handler. The analyzer pairs responses
// with requests itself (see connState.pair), so that a response lost in a
// gap does not shift every later pair: req is not used.
func (a *Analyzer) Response(c *reassembly.Conn, req, resp *reassembly.Message) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cs := a.conn(c)
	cs.http = true
	cs.touch(c)
	cs.response(a, req, resp)
}

// ConnectionClosed implements reassembly.Handler: the connection's state is
// compacted (open handshakes get a provisional outcome, its final
// authentication state is decided, per-request state and messages are
// dropped, exchanges are cut to what the report draws) and the
// reassembler's Conn is no longer referenced.
func (a *Analyzer) ConnectionClosed(c *reassembly.Conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tcpConns++
	// A decrypted connection carries its plaintext's protocol; ProtoTLS
	// means TLS that could not be seen inside (no keys, or failed). A
	// proxy's CONNECT tunnel that carried TLS counts too: what NTLM the
	// server inside asked for is seen only when it was decrypted.
	unseen := c.Protocol == reassembly.ProtoTLS || c.Tunnel == reassembly.ProtoTLS
	if unseen || c.TLS != nil {
		a.tlsConns++
	}
	switch {
	case c.Decrypted:
		a.tlsDecrypted++
	case unseen:
		a.tlsWithoutKeys++
	}
	if c.Protocol == reassembly.ProtoHTTP2 {
		a.http2Conns++
	}
	if c.Ended == reassembly.EndEvicted {
		a.evicted++
	}
	a.gaps += int64(c.Gaps[0] + c.Gaps[1])
	a.httpErrors += int64(c.HTTPErrors)
	a.countTruncated(c)
	cs := a.byConn[c]
	if cs == nil {
		return
	}
	delete(a.byConn, c)
	if c.HandlerState == cs {
		c.HandlerState = nil // nothing of a closed connection stays reachable from c
	}
	cs.close(c, a)
	if !cs.sawSYN {
		a.midstream++
	}
}

// Finish correlates the connections, diagnoses them and builds the report.
// Connections still open are closed as if the capture ended. Call it (or
// FinishStreaming) once, after the last event.
func (a *Analyzer) Finish(src reassembly.SourceStats) *Report {
	r := a.FinishStreaming(src)
	r.Materialize()
	return r
}

// FinishStreaming is Finish for large captures: the report's connections
// are built one at a time as they are read ([Report.EachConnection]), so
// that memory holds the analyzer's compact state and one Connection rather
// than every Connection of the capture.
func (a *Analyzer) FinishStreaming(src reassembly.SourceStats) *Report {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mergeShards()
	for c, cs := range a.byConn {
		cc := *c
		if cc.Ended == reassembly.EndOpen {
			cc.Ended = reassembly.EndCapture
		}
		cs.close(&cc, a)
		a.countOpen(cs)
		a.countTruncated(&cc)
		delete(a.byConn, c)
	}
	conns := make([]*connState, 0, len(a.all))
	for _, cs := range a.all {
		if cs.http && cs.requests+cs.responses > 0 {
			conns = append(conns, cs)
		}
	}
	d := newDiagnosis(a.opts, conns, src)
	d.lines, d.hashes = a.in.lines, a.in.hashes
	d.tlsWithoutKeys = a.tlsWithoutKeys
	d.run()
	r := a.build(d, src)
	d.release()
	return r
}

// connCounts are counted from ConnectionClosed for every connection, HTTP
// or not. An Analyzer sums its shards' (mergeShards), a snapshot its
// Analyzers' (snapshotCopy.take): a counter added here is summed by both.
type connCounts struct {
	tcpConns, tlsConns, http2Conns, evicted, midstream, gaps, httpErrors int64
	tlsDecrypted, tlsWithoutKeys                                         int64
	// truncatedHTTP counts the segments the snapshot length cut short on
	// connections whose NTLM that may have hidden (countTruncated).
	truncatedHTTP int64
}

// add adds o's counts to c.
func (c *connCounts) add(o *connCounts) {
	c.tcpConns += o.tcpConns
	c.tlsConns += o.tlsConns
	c.http2Conns += o.http2Conns
	c.evicted += o.evicted
	c.midstream += o.midstream
	c.gaps += o.gaps
	c.httpErrors += o.httpErrors
	c.tlsDecrypted += o.tlsDecrypted
	c.tlsWithoutKeys += o.tlsWithoutKeys
	c.truncatedHTTP += o.truncatedHTTP
}

// countTruncated counts conn's segments cut short by the snapshot length
// when they may have hidden NTLM headers: on a connection not identified
// (its first bytes cut), or on HTTP whose parser lost its place (a cut
// header). A cut body, or cut SMB, hides none.
func (c *connCounts) countTruncated(conn *reassembly.Conn) {
	if conn.Truncated > 0 && (conn.Protocol == reassembly.ProtoUnknown ||
		conn.Protocol == reassembly.ProtoHTTP1 && conn.HTTPErrors > 0) {
		c.truncatedHTTP += int64(conn.Truncated)
	}
}

// countOpen counts a connection still open when the capture ended.
func (c *connCounts) countOpen(cs *connState) {
	c.tcpConns++
	if !cs.sawSYN {
		c.midstream++
	}
}
