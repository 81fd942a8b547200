package analyzer

import "github.com/ntlmscope/ntlmscope/internal/freelist"

// exchChunkLen is how many exchange records an exchChunk holds (704
// bytes, a size class of the allocator): most connections make a few
// requests and take one chunk; a keep-alive one that reaches maxExchanges
// takes 25.
const exchChunkLen = 8

// maxFreeChunks bounds the chunks an Analyzer keeps for reuse: 352 KiB,
// which covers the ups and downs of open connections on a busy capture
// (on the 2 GB benchmark capture, 4,000 chunks are made for 578,000
// exchanges).
const maxFreeChunks = 512

// exchChunk holds exchChunkLen exchange records of an open connection.
type exchChunk [exchChunkLen]exchRec

// exchList is the exchange records of an open connection, in chunks: a
// record never moves once written, and a connection that makes more
// requests takes another chunk rather than copying its records into a
// larger array (a slice of records would copy a long keep-alive
// connection's 88-byte records eight times on its way to maxExchanges).
//
// The chunks come from the connection's Analyzer (chunkPool.get) and go
// back to it when the connection closes (chunkPool.put), once its records
// are encoded: nothing outside the open connection points into a chunk,
// and what a closed connection keeps of its records is its own string
// (compactExchanges).
type exchList struct {
	chunks []*exchChunk
	n      int // records written
}

// len returns the number of records.
func (l *exchList) len() int { return l.n }

// at returns record i (0 ≤ i < len).
func (l *exchList) at(i int) *exchRec { return &l.chunks[i/exchChunkLen][i%exchChunkLen] }

// add appends e, taking a chunk from pool when the last one is full, and
// returns its index.
func (l *exchList) add(e *exchRec, pool *chunkPool) int {
	if l.n == len(l.chunks)*exchChunkLen {
		l.chunks = append(l.chunks, pool.get())
	}
	i := l.n
	l.n++
	*l.at(i) = *e
	return i
}

// release gives the chunks back to pool, cleared, and empties the list.
func (l *exchList) release(pool *chunkPool) {
	for i, c := range l.chunks {
		// Only the records written need clearing: the rest of a chunk
		// is still zero.
		clear(c[:min(exchChunkLen, l.n-i*exchChunkLen)])
		pool.put(c)
		l.chunks[i] = nil
	}
	*l = exchList{chunks: l.chunks[:0]}
}

// chunkPool keeps the exchange chunks of closed connections for the next
// ones to open, at most maxFreeChunks of them; its chunks are cleared. It
// belongs to one Analyzer and is used under its lock.
type chunkPool struct {
	free freelist.List[*exchChunk]
}

// get returns an empty chunk.
func (p *chunkPool) get() *exchChunk {
	if c, ok := p.free.Get(); ok {
		return c
	}
	return new(exchChunk)
}

// put keeps c, cleared by the caller, for get (or drops it when the pool
// is full).
func (p *chunkPool) put(c *exchChunk) { p.free.Put(c, maxFreeChunks) }
