package reassembly

import (
	"errors"
	"github.com/ntlmscope/ntlmscope/internal/freelist"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	gpr "github.com/gopacket/gopacket/reassembly"
)

// Options tune the reassembler. The zero value uses the defaults.
type Options struct {
	// IdleTimeout ends a connection that saw no packet for this long, in
	// capture time (default 5 minutes; IIS drops idle keep-alive
	// connections after 2).
	IdleTimeout time.Duration
	// GapWait is how long (capture time) out-of-order data waits for the
	// missing bytes before the gap is given up as lost (default 2 s).
	GapWait time.Duration
	// MaxConnections caps the connections under analysis at once; the
	// least recently active is evicted (and counted) beyond it (default
	// 250,000).
	MaxConnections int
	// RetainIndex is how long a finished conversation's 4-tuple keeps its
	// tcp.stream index for late packets (default 15 minutes).
	RetainIndex time.Duration
	// Workers is how many goroutines reassemble and analyse at once: the
	// connections are sharded over them by 4-tuple, behind one goroutine
	// that reads and numbers the packets (Run only; default 1). The events
	// of different connections then interleave differently, which a
	// Handler must not depend on; the connection table's capacity
	// (MaxConnections) is divided evenly among the workers.
	Workers int
	// maxPages bounds the pages of out-of-order data held at once
	// (default defaultMaxPages; a shard gets its share).
	maxPages int
	// noRecycle allocates every connection anew (recycle.go): the
	// reference the tests hold recycling to.
	noRecycle bool
	// TLS: KeyLog supplies secrets to decrypt TLS connections (see
	// KeyLog); nil for none. Run adds the secrets embedded in pcapng
	// captures without it. While a key source exists, TLS connections are
	// kept and followed rather than dropped.
	KeyLog *KeyLog
}

// defaultMaxPages bounds the out-of-order data held at once (pages of
// 1900 bytes: about 76 MB).
const defaultMaxPages = 40_000

func (o *Options) setDefaults() {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.GapWait <= 0 {
		o.GapWait = 2 * time.Second
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 250_000
	}
	if o.RetainIndex <= 0 {
		o.RetainIndex = 15 * time.Minute
	}
	// A conversation is remembered at least as long as it may stay open.
	o.RetainIndex = max(o.RetainIndex, o.IdleTimeout)
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.maxPages <= 0 {
		o.maxPages = defaultMaxPages
	}
}

// StreamStats counts what the reassembler saw across all connections.
type StreamStats struct {
	// Connections counts every TCP conversation (tcp.stream) seen.
	Connections int64
	// HTTPConnections counts those that carried at least one HTTP message.
	HTTPConnections int64
	// TLS, HTTP2 and Other count connections classified as such (not
	// analysed).
	TLS, HTTP2, Other int64
	// MidStream counts connections whose SYN was not captured.
	MidStream int64
	// Gaps counts holes in reassembled streams (bytes never captured).
	Gaps int64
	// Evicted counts connections pushed out of a full table.
	Evicted int64
	// HTTPErrors counts resynchronisations of the HTTP parsers.
	HTTPErrors int64
	// RefutedResets counts RSTs that did not end their connection: not at
	// the sequence number where their sender's bytes ended, and followed
	// by more of its bytes (a forged or stale RST the endpoints ignored;
	// see reset.go).
	RefutedResets int64
	// TLS: decryption, counted when a key source exists (see TLSInfo):
	// connections decrypted, without a secret (or without a captured
	// handshake), with a secret that failed, and with a version or suite
	// not supported; records that failed to decrypt; directions whose
	// decryption stopped early (a gap, a failure).
	TLSDecrypted, TLSWithoutKeys, TLSBadKeys, TLSUnsupported int64
	TLSFailedRecords, TLSStopped                             int64
}

func (s *StreamStats) count(c *Conn) {
	switch c.Protocol {
	case ProtoTLS:
		s.TLS++
	case ProtoHTTP2:
		s.HTTP2++
	case ProtoOther:
		s.Other++
	}
	if !c.SawSYN {
		s.MidStream++
	}
	if c.Ended == EndEvicted {
		s.Evicted++
	}
	s.HTTPErrors += int64(c.HTTPErrors)
	if c.TLS != nil {
		s.countTLS(c.TLS) // TLS
	}
}

// Reassembler tracks TCP connections, reassembles their streams and parses
// HTTP/1.1, delivering events to a Handler. Feed it packets in capture
// order with Packet, then call Finish once. It is not safe for concurrent
// use.
//
// Memory is bounded by the connections open at once: connections end on
// FIN/RST, on capture-time idleness, and by eviction beyond
// Options.MaxConnections; bodies are counted, never buffered.
type Reassembler struct {
	h         Handler
	opts      Options
	numberer  *numberer // nil in a shard: its dispatcher numbers packets
	tracker   *tracker
	factory   streamFactory
	assembler *gpr.Assembler
	// ctx carries the current packet's frame and time to the assembler.
	// gopacket keeps the pointer with every segment it queues out of order,
	// so after such a segment (ctxKept) the next packet gets a new one; in
	// order, one context serves every packet without allocating.
	ctx     *pktContext
	ctxKept bool
	stats   StreamStats

	now         time.Time // latest capture time seen
	idleCutoff  time.Time // connections quiet since before this are idle
	nextFlush   time.Time
	flushReason EndReason

	// holding and heldConns order events during assembler flushes (emit.go).
	holding   bool
	heldConns []*connState

	// suspects lists the connections that outlive a suspect RST
	// (reset.go), ended at a flush once its grace is over.
	suspects []suspectConn

	msgs msgPool // HTTP messages for reuse (message.go)
	// retired holds finalised connections for reuse (recycle.go).
	retired freelist.List[*connState]

	keys     keyRing // TLS: key sources (tls_keylog.go)
	tlsPlain []byte  // TLS: plaintext scratch, shared (consumed as decrypted)
}

// NewReassembler returns a Reassembler that reports to h.
func NewReassembler(h Handler, opts Options) *Reassembler {
	opts.setDefaults()
	r := newShardReassembler(h, opts)
	r.numberer = newNumberer(opts.RetainIndex)
	return r
}

// newShardReassembler returns a Reassembler for packets numbered elsewhere
// (see shard.go).
func newShardReassembler(h Handler, opts Options) *Reassembler {
	r := &Reassembler{h: h, opts: opts, tracker: newTracker(), flushReason: EndIdle}
	if opts.KeyLog != nil {
		r.keys = keyRing{opts.KeyLog} // TLS
	}
	pool := gpr.NewStreamPool(&r.factory)
	r.assembler = gpr.NewAssembler(pool)
	// Bound what out-of-order data may hold (pages are 1900 bytes).
	r.assembler.MaxBufferedPagesPerConnection = 512
	r.assembler.MaxBufferedPagesTotal = opts.maxPages
	return r
}

// Stats returns the counts so far.
func (r *Reassembler) Stats() StreamStats { return r.stats }

// Packet processes one TCP packet. The packet may be reused after the call.
func (r *Reassembler) Packet(p *Packet) {
	r.numberer.assign(p)
	r.process(p)
}

// process reassembles a numbered packet (see numberer.assign).
func (r *Reassembler) process(p *Packet) {
	if p.now.After(r.now) {
		r.now = p.now
	}
	if !r.now.Before(r.nextFlush) {
		r.flush()
	}
	e, replaced := r.tracker.lookup(p)
	if replaced != nil && replaced.live != nil {
		replaced.live.finalize(EndReplaced)
	}
	if e == nil {
		return // a late packet of a conversation forgotten here
	}
	side := p.side
	cs := e.live
	if cs == nil {
		if !p.fresh {
			// A late packet of a finished conversation (the last ACK, a
			// retransmitted FIN): same tcp.stream, nothing to analyse.
			return
		}
		cs = r.newConn(e, p, side)
		if r.tracker.active.n > r.opts.MaxConnections {
			if old := r.tracker.oldestActive(); old != nil && old.live != nil && old != e {
				old.live.finalize(EndEvicted)
			}
		}
	}
	if cs.cutPending {
		cs.settleCut(p, side)
	}
	tcp := &p.TCP
	c := cs.conn
	c.End, c.LastFrame = p.Time, p.Frame
	if p.File != cs.partFile {
		// The connection goes on in the next file of a chain.
		cs.partFile = p.File
		c.Parts = append(c.Parts, ConnPart{File: p.File, Stream: p.stream, FirstFrame: p.Frame})
	}
	if tcp.SYN {
		cs.sawSYN = true
		if cs.clientSide < 0 {
			if tcp.ACK {
				cs.setClient(1 - side)
			} else {
				cs.setClient(side)
			}
		}
	}
	if cs.clientSide < 0 && len(tcp.Payload) > 0 {
		cs.guessClient(p, side)
	}
	if p.Truncated {
		c.Truncated++
	}
	exactRST, settled := true, false
	if tcp.RST {
		exactRST = cs.exactReset(side, tcp.Seq)
	} else {
		settled = cs.noteSent(side, tcp, p.MissingBytes)
	}
	if tcp.FIN {
		cs.fin[side] = true
		if cs.clientSide >= 0 && c.FINFrame[cs.direction(side)] == 0 {
			c.FINFrame[cs.direction(side)] = p.Frame
			cs.closedAt(side, p)
		}
	}
	recorded, closed := false, false
	if tcp.RST && cs.clientSide >= 0 && c.RSTFrame[cs.direction(side)] == 0 {
		recorded, closed = true, c.CloseTime[cs.direction(side)].IsZero()
		c.RSTFrame[cs.direction(side)] = p.Frame
		cs.closedAt(side, p)
	}
	// A suspect RST's payload is not the stream's: a receiver drops the
	// whole segment.
	if !cs.dropped && exactRST && (len(tcp.Payload) > 0 || tcp.SYN || tcp.FIN) && !cs.fastPath(p, side) {
		r.assemble(cs, side, tcp, p)
	}
	if cs.finalized {
		return
	}
	switch {
	case tcp.RST && exactRST, settled:
		cs.finalize(EndRST)
	case tcp.RST:
		// Not where its sender's bytes end: the connection may go on
		// (reset.go).
		cs.suspectRST(side, p, recorded, closed, cs.direction(side))
	case cs.half[0].finDone && cs.half[1].finDone:
		cs.finalize(EndFIN)
	case cs.fin[0] && cs.fin[1] && cs.dropped:
		cs.finalize(EndFIN)
	}
}

// closedAt records p, a FIN or RST of tuple side, as the direction's close
// time unless an earlier one was.
func (cs *connState) closedAt(side int, p *Packet) {
	if d := cs.direction(side); cs.conn.CloseTime[d].IsZero() {
		cs.conn.CloseTime[d] = p.Time
	}
}

// assemble hands a segment of cs (sent by tuple side) to gopacket's
// assembler, with p's frame and time.
func (r *Reassembler) assemble(cs *connState, side int, tcp *layers.TCP, p *Packet) {
	if r.ctx == nil || r.ctxKept {
		r.ctx, r.ctxKept = new(pktContext), false
	}
	r.ctx.ci = gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(tcp.Payload), Length: len(tcp.Payload), InterfaceIndex: int(p.Frame)}
	r.factory.current = cs
	r.assembler.AssembleWithContext(cs.flows[side], tcp, r.ctx)
}

// Tick tells the reassembler the time is now when no packet arrives (a
// live capture on a quiet interface): connections idle past
// Options.IdleTimeout end, and data waiting behind a lost segment is given
// up after Options.GapWait, without waiting for the next packet. Times
// earlier than the latest packet's are ignored.
func (r *Reassembler) Tick(now time.Time) {
	if now.After(r.now) {
		r.now = now
	}
	if r.numberer != nil && now.After(r.numberer.now) {
		r.numberer.now = now
	}
	if !r.now.Before(r.nextFlush) {
		r.flush()
	}
}

// flush pushes data stuck behind lost segments and ends idle connections;
// it runs once per second of capture time,
// for the whole second (clockTick), so that the shards of a sharded run
// decide alike.
func (r *Reassembler) flush() {
	at := clockTick(r.now)
	r.nextFlush = at.Add(time.Second)
	idleCutoff := at.Add(-r.opts.IdleTimeout)
	r.idleCutoff = idleCutoff
	r.flushReason = EndIdle
	r.holdEvents()
	r.assembler.FlushWithOptions(gpr.FlushOptions{T: at.Add(-r.opts.GapWait), TC: idleCutoff})
	r.releaseEvents()
	for e := r.tracker.oldestActive(); e != nil && e.lastSeen.Before(idleCutoff); e = r.tracker.oldestActive() {
		e.live.finalize(EndIdle)
	}
	if len(r.suspects) > 0 {
		r.endSuspects(at)
	}
}

// Finish ends every open connection (the capture ended) and delivers the
// remaining events.
func (r *Reassembler) Finish() {
	r.flushReason = EndCapture
	r.holdEvents()
	r.assembler.FlushAll()
	r.releaseEvents()
	for e := r.tracker.oldestActive(); e != nil; e = r.tracker.oldestActive() {
		e.live.finalize(EndCapture)
	}
}

// Run reads every packet of src into a new Reassembler reporting to h, then
// finishes it. It returns the reassembler's statistics and the source's
// fatal error, if any.
func Run(src Source, h Handler, opts Options) (StreamStats, error) {
	opts.setDefaults()
	if opts.Workers > 1 {
		return runSharded(src, h, opts)
	}
	r := NewReassembler(h, opts)
	r.AddKeyLog(EmbeddedKeyLogs(src)...) // TLS: secrets inside the captures
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.Finish()
			return r.Stats(), err
		}
		r.Packet(p)
	}
	r.Finish()
	return r.Stats(), nil
}
