package analyzer

import (
	"encoding/json"
	"iter"
)

// connList builds a report's connections on demand from the finished
// diagnosis, so that a report of a large capture never holds every
// Connection (with its handshakes and exchanges) at once: a renderer that
// streams them needs one at a time.
type connList struct {
	d *diagnosis
}

// ConnectionCount returns how many connections the report lists.
func (r *Report) ConnectionCount() int {
	if r.lazy != nil {
		return len(r.lazy.d.conns)
	}
	return len(r.Connections)
}

// EachConnection yields the report's connections in id order. For a report
// from [Analyzer.FinishStreaming] each is built as it is yielded: the
// pointer is only valid until the next one (copy what you keep), and a
// change to it is not kept. For any other report it points into
// Connections. It may be called any number of times.
func (r *Report) EachConnection() iter.Seq[*Connection] {
	return r.connections(0, r.ConnectionCount(), false, true)
}

// EachConnectionBrief is EachConnection without the exchanges, for
// renderers that list connections or read their handshakes: each
// connection has every field EachConnection gives it except Exchanges,
// which is nil. Decoding the exchanges, and new lists and maps for every
// connection, are most of the cost of building the connections of a
// streaming report, so what it yields, lists included, is only valid
// until the next is yielded, as with [Report.ConnectionsIn]: copy what you
// keep. For a report that is not streaming it yields a shallow copy of
// each connection, its Exchanges cleared (its other lists are those of
// Connections: do not change them).
func (r *Report) EachConnectionBrief() iter.Seq[*Connection] {
	return r.connections(0, r.ConnectionCount(), true, false)
}

// ConnectionsIn is EachConnection for the connections at positions lo to
// hi-1 of the id order (0 ≤ lo ≤ hi ≤ ConnectionCount), for renderers
// that write each connection before they read the next and keep nothing
// of it: in a streaming report, the lists, maps and handshakes of a
// connection are reused for the next, so a value read from one is only
// valid until the next is yielded, copied or not.
//
// Unlike the rest of the report's methods, it may be called from several
// goroutines at once, and the iterators it returns may run at the same
// time: building a connection only reads the finished diagnosis. A
// renderer can so build, and encode, runs of connections on every core and
// write them in order.
func (r *Report) ConnectionsIn(lo, hi int) iter.Seq[*Connection] {
	return r.connections(lo, hi, true, true)
}

// connections yields the connections at positions lo to hi-1, in a
// streaming report built with one scratch for all when reuse is set, with
// their exchanges when exchanges is set.
func (r *Report) connections(lo, hi int, reuse, exchanges bool) iter.Seq[*Connection] {
	if r.lazy == nil {
		return func(yield func(*Connection) bool) {
			var brief Connection // one for the whole run: yield makes it escape
			for i := lo; i < hi; i++ {
				c := &r.Connections[i]
				if !exchanges {
					brief = *c
					brief.Exchanges = nil
					c = &brief
				}
				if !yield(c) {
					return
				}
			}
		}
	}
	d := r.lazy.d
	return func(yield func(*Connection) bool) {
		var scratch connScratch
		var c Connection // one for the whole run: yield makes it escape
		for _, cs := range d.conns[lo:hi] {
			if !reuse {
				scratch = connScratch{}
			}
			d.connectionInto(&c, &scratch, cs, exchanges)
			if !yield(&c) {
				return
			}
		}
	}
}

// Streaming reports whether the report builds its connections on demand
// (Connections is then nil; use EachConnection).
func (r *Report) Streaming() bool { return r.lazy != nil }

// Materialize fills Connections of a streaming report, which then stops
// streaming. It costs the memory streaming saves: for tests and for
// transformations that need every connection at once.
func (r *Report) Materialize() {
	if r.lazy == nil {
		return
	}
	r.Connections = make([]Connection, 0, r.ConnectionCount())
	for c := range r.EachConnection() {
		r.Connections = append(r.Connections, *c)
	}
	r.lazy = nil
}

// reportJSON has Report's fields without its methods.
type reportJSON Report

// MarshalJSON encodes the report; a streaming one is materialized on a
// copy first (the report package's JSON renderer streams instead).
func (r Report) MarshalJSON() ([]byte, error) {
	if r.lazy != nil {
		r.Materialize()
	}
	return json.Marshal(reportJSON(r))
}
