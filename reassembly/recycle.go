package reassembly

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	gpr "github.com/gopacket/gopacket/reassembly"
)

// A capture of a few hundred thousand connections would allocate a
// connState, two HTTP parsers with their buffers, a tracker entry and a
// few small queues for each. A finalised connState is instead recycled
// for a later connection of the same Reassembler, keeping its parsers
// (Reset, their buffers kept), its queues (emptied) and its entry. The
// retired connStates wait in a free list (freelist.go), whose bound keeps
// memory to what the open connections need: beyond it, a finalised
// connState is left to the garbage collector.
//
// What may still point at a finalised connState decides when it can be
// reused:
//   - the Handler: it holds the Conn (allocated per connection, never
//     recycled), never the connState;
//   - held events (emit.go): delivered at the end of the flush that
//     finalised it;
//   - gopacket's assembler: a connection in its pool holds its Stream
//     from StreamFactory.New until ReassemblyComplete returns true, which
//     for a connection finalised by a RST, idleness or eviction may come
//     much later (gpHeld);
//   - the tracker: forget drops the entry from its table, its slot index
//     and its lists; a late packet that finds the slot reused is told
//     apart by its conversation number (tracker.lookup).
//
// So finalize, or ReassemblyComplete once the pool lets go, retires the
// connState, and the next newConn reuses it: newConn runs only for a
// packet, outside every callback and flush.

// poisonConns makes gopacket's assembler reach a connection through a
// checkedStream, which panics when the connState it was created for has
// been recycled since: tests prove that the assembler never calls a
// connection it should have let go of.
var poisonConns = poisonBuild

// maxKeptQueue is the largest capacity of a queue (pending, held,
// methods, heldEvents) a recycled connState keeps.
const maxKeptQueue = 64

// retire queues cs, finalised and let go of by the assembler, for reuse.
func (r *Reassembler) retire(cs *connState) {
	if !r.opts.noRecycle {
		r.retired.Put(cs, maxFree)
	}
}

// reuseConn returns a retired connState, reset, or a new one.
func (r *Reassembler) reuseConn() *connState {
	cs, ok := r.retired.Get()
	if !ok {
		return &connState{r: r}
	}
	cs.reset()
	return cs
}

// reset readies a retired connState for a new connection: everything
// zero but what is kept for reuse.
func (cs *connState) reset() {
	if poisonConns && (!cs.finalized || cs.gpHeld || len(cs.heldEvents) > 0 || cs.e.live != nil) {
		panic("reassembly: a connection still in use was recycled")
	}
	if cs.parserMem != nil {
		for i := range cs.parserMem {
			cs.parserMem[i].Reset()
		}
	}
	e := cs.e
	*e = entry{}
	cs.r.tracker.freeEntry(e)
	*cs = connState{
		r:          cs.r,
		parserMem:  cs.parserMem,
		pending:    keepQueue(cs.pending),
		held:       keepQueue(cs.held),
		methods:    keepQueue(cs.methods),
		heldEvents: keepQueue(cs.heldEvents),
		reuses:     cs.reuses + 1,
	}
}

// keepQueue returns q emptied (and cleared, so that it keeps nothing
// alive), or nil when it grew too large to keep.
func keepQueue[T any](q []T) []T {
	if cap(q) > maxKeptQueue {
		return nil
	}
	clear(q[:cap(q)])
	return q[:0]
}

// checkedStream is the Stream gopacket's assembler gets in place of a
// connState under poisonConns: it checks, on every call, that the
// connState was not recycled since the assembler was given it.
type checkedStream struct {
	cs     *connState
	reuses uint32
}

func (s *checkedStream) check() *connState {
	if s.cs.reuses != s.reuses {
		panic("reassembly: the assembler called a recycled connection")
	}
	return s.cs
}

// Accept implements gopacket's reassembly.Stream.
func (s *checkedStream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir gpr.TCPFlowDirection, nextSeq gpr.Sequence, start *bool, ac gpr.AssemblerContext) bool {
	return s.check().Accept(tcp, ci, dir, nextSeq, start, ac)
}

// ReassembledSG implements gopacket's reassembly.Stream.
func (s *checkedStream) ReassembledSG(sg gpr.ScatterGather, ac gpr.AssemblerContext) {
	s.check().ReassembledSG(sg, ac)
}

// ReassemblyComplete implements gopacket's reassembly.Stream.
func (s *checkedStream) ReassemblyComplete(ac gpr.AssemblerContext) bool {
	return s.check().ReassemblyComplete(ac)
}
