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
	if r.lazy == nil {
		return func(yield func(*Connection) bool) {
			for i := range r.Connections {
				if !yield(&r.Connections[i]) {
					return
				}
			}
		}
	}
	d := r.lazy.d
	return func(yield func(*Connection) bool) {
		for _, cs := range d.conns {
			c := d.connection(cs)
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
