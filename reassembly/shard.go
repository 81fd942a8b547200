package reassembly

import (
	"errors"
	"io"
	"sync"
	"time"
)

// A sharded run (Options.Workers > 1) reads and numbers packets on the
// calling goroutine and hands each to the worker that owns its 4-tuple: a
// Reassembler of its own, fed in capture order. The numberer decides every
// packet's conversation (tcp.stream, connection ID) before any worker sees
// it, and periodic work runs on whole seconds of the shared capture clock
// (clockTick), so each connection is reassembled exactly as by a single
// Reassembler; only the interleaving of different connections' events
// changes.

// shardBatch is how many packets travel to a worker at once: enough to make
// the channel's cost per packet negligible.
const shardBatch = 256

// shardBatchBytes bounds the segment bytes (TCP headers and payloads) a
// batch holds.
const shardBatchBytes = 256 << 10

// shardWorker is one reassembly goroutine and the batches it is sent.
type shardWorker struct {
	r    *Reassembler
	full chan *packetBatch
	free chan *packetBatch
	cur  *packetBatch
}

// ShardedHandler is a Handler that gives each worker of a sharded run a
// Handler of its own (for instance with its own state and lock), so that
// the workers do not contend for one. Run calls Shard once per worker, with
// i from 0 to n-1, before the first event; every connection's events reach
// one shard only.
type ShardedHandler interface {
	Handler
	Shard(i, n int) Handler
}

func newShardWorker(h Handler, opts Options, keys []*KeyLog) *shardWorker {
	w := &shardWorker{
		r:    newShardReassembler(h, opts),
		full: make(chan *packetBatch, 4),
		free: make(chan *packetBatch, 6),
	}
	w.r.AddKeyLog(keys...)
	for i := 0; i < cap(w.free); i++ {
		w.free <- &packetBatch{recs: make([]batchRec, 0, shardBatch), buf: make([]byte, 0, shardBatchBytes)}
	}
	w.cur = <-w.free
	return w
}

// run reassembles every batch, then finishes.
func (w *shardWorker) run(wg *sync.WaitGroup) {
	defer wg.Done()
	var p Packet // rebuilt for each record
	for b := range w.full {
		for i := range b.recs {
			switch r := &b.recs[i]; r.kind {
			case recPacket:
				b.packet(r, &p)
				w.r.process(&p)
			case recTick:
				w.r.Tick(time.Unix(r.nowSec, int64(r.nowNsec)).UTC())
			case recOdd:
				if q := &b.odd[r.off]; q.tick {
					w.r.Tick(q.now)
				} else {
					w.r.process(q)
				}
			}
		}
		b.reset()
		w.free <- b
	}
	w.r.Finish()
}

// add copies p into the current batch, sending the batch when full.
func (w *shardWorker) add(p *Packet) {
	if w.cur.full(len(p.TCP.Contents) + len(p.TCP.Payload)) {
		w.send()
	}
	w.cur.add(p)
}

// addTick queues the capture clock: the worker flushes at the same whole
// seconds as a single reassembler would, even when none of the packets
// around that instant are its own (a connection gone idle near the end of
// a capture ends as idle, not at the capture's end).
func (w *shardWorker) addTick(now time.Time) {
	if len(w.cur.recs) == cap(w.cur.recs) {
		w.send()
	}
	w.cur.addTick(now)
}

// send hands the current batch to the worker and takes a free one.
func (w *shardWorker) send() {
	if len(w.cur.recs) == 0 {
		return
	}
	w.full <- w.cur
	w.cur = <-w.free
}

// runSharded is Run with opts.Workers > 1.
func runSharded(src Source, h Handler, opts Options) (StreamStats, error) {
	n := opts.Workers
	shardOpts := opts
	shardOpts.MaxConnections = max(1, opts.MaxConnections/n)
	shardOpts.maxPages = max(512, opts.maxPages/n)
	keys := EmbeddedKeyLogs(src) // TLS: secrets inside the captures
	workers := make([]*shardWorker, n)
	var wg sync.WaitGroup
	for i := range workers {
		wh := h
		if sh, ok := h.(ShardedHandler); ok {
			wh = sh.Shard(i, n)
		}
		workers[i] = newShardWorker(wh, shardOpts, keys)
		wg.Add(1)
		go workers[i].run(&wg)
	}
	num := newNumberer(opts.RetainIndex)
	var nextTick time.Time // the next whole second to tell every worker of
	var err error
	for {
		var p *Packet
		p, err = src.Next()
		if err != nil {
			break
		}
		num.assign(p)
		if !p.now.Before(nextTick) {
			nextTick = clockTick(p.now).Add(time.Second)
			for _, w := range workers {
				w.addTick(p.now)
			}
		}
		workers[p.shard%uint64(n)].add(p)
	}
	for _, w := range workers {
		w.send()
		close(w.full)
	}
	wg.Wait()
	var st StreamStats
	for _, w := range workers {
		st.add(w.r.Stats())
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return st, err
}

// add sums the counts of o into s.
func (s *StreamStats) add(o StreamStats) {
	s.Connections += o.Connections
	s.HTTPConnections += o.HTTPConnections
	s.TLS += o.TLS
	s.HTTP2 += o.HTTP2
	s.Other += o.Other
	s.MidStream += o.MidStream
	s.Gaps += o.Gaps
	s.Evicted += o.Evicted
	s.HTTPErrors += o.HTTPErrors
	s.RefutedResets += o.RefutedResets
	s.TLSDecrypted += o.TLSDecrypted
	s.TLSWithoutKeys += o.TLSWithoutKeys
	s.TLSBadKeys += o.TLSBadKeys
	s.TLSUnsupported += o.TLSUnsupported
	s.TLSFailedRecords += o.TLSFailedRecords
	s.TLSStopped += o.TLSStopped
}
