package reassembly

import "slices"

// Events reach the Handler through the emitter, which keeps their order
// deterministic. gopacket's assembler flushes its connections in map
// order, so events that a flush releases for several connections would
// otherwise interleave differently from run to run; during a flush they are
// held per connection and delivered afterwards in connection order.

// eventKind is the Handler method an event calls.
type eventKind uint8

const (
	evOpened eventKind = iota
	evRequest
	evResponse
	evClosed
)

// heldEvent is an event waiting for the end of a flush.
type heldEvent struct {
	kind      eventKind
	req, resp *Message
}

// emit delivers an event of cs now, or holds it while the assembler
// flushes; a held event holds a reference to its messages (see
// connState.unref).
func (cs *connState) emit(kind eventKind, req, resp *Message) {
	r := cs.r
	if r.holding {
		if len(cs.heldEvents) == 0 {
			r.heldConns = append(r.heldConns, cs)
		}
		if req != nil {
			req.refs++
		}
		if resp != nil {
			resp.refs++
		}
		cs.heldEvents = append(cs.heldEvents, heldEvent{kind, req, resp})
		return
	}
	cs.deliverEvent(kind, req, resp)
}

func (cs *connState) deliverEvent(kind eventKind, req, resp *Message) {
	h := cs.r.h
	switch kind {
	case evOpened:
		h.ConnectionOpened(cs.conn)
	case evRequest:
		h.Request(cs.conn, req)
	case evResponse:
		h.Response(cs.conn, req, resp)
	case evClosed:
		h.ConnectionClosed(cs.conn)
	}
}

// holdEvents makes events wait until releaseEvents.
func (r *Reassembler) holdEvents() { r.holding = true }

// releaseEvents delivers the held events, connection by connection in the
// order of their IDs.
func (r *Reassembler) releaseEvents() {
	r.holding = false
	if len(r.heldConns) == 0 {
		return
	}
	slices.SortFunc(r.heldConns, func(a, b *connState) int { return a.conn.ID - b.conn.ID })
	for _, cs := range r.heldConns {
		for _, ev := range cs.heldEvents {
			cs.deliverEvent(ev.kind, ev.req, ev.resp)
			if ev.req != nil {
				cs.unref(ev.req)
			}
			if ev.resp != nil {
				cs.unref(ev.resp)
			}
		}
		clear(cs.heldEvents)
		cs.heldEvents = cs.heldEvents[:0]
	}
	clear(r.heldConns)
	r.heldConns = r.heldConns[:0]
}
