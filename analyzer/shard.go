package analyzer

import "github.com/ntlmscope/ntlmscope/reassembly"

// Shard implements reassembly.ShardedHandler: each worker of a sharded run
// gets an Analyzer of its own for the connections it owns (its own lock,
// hasher, token decoder and intern cache), sharing only the interner,
// which has a lock of its own. FinishStreaming merges the shards back. The
// report is the same as with one Analyzer: every connection's events reach
// one shard in their order, and the diagnosis, which alone looks across
// connections, runs on the merged state.
func (a *Analyzer) Shard(i, n int) reassembly.Handler {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &Analyzer{
		opts:   a.opts,
		hash:   newHasher(a.opts.HashKey),
		in:     a.in,
		ic:     internCache{in: a.in},
		byConn: map[*reassembly.Conn]*connState{},
	}
	a.shards = append(a.shards, s)
	return s
}

// mergeShards moves the shards' connections and counts into a; the caller
// holds a.mu. Connections still open in a shard stay open: FinishStreaming
// closes them with a's own.
func (a *Analyzer) mergeShards() {
	for _, s := range a.shards {
		s.mu.Lock()
		a.all = append(a.all, s.all...)
		for c, cs := range s.byConn {
			a.byConn[c] = cs
		}
		a.connCounts.add(&s.connCounts)
		s.all, s.byConn = nil, nil
		s.mu.Unlock()
	}
	a.shards = nil
}
