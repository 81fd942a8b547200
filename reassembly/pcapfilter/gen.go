package pcapfilter

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// DefaultSnaplen is what an accepting program returns when no snap length
// is given: tcpdump's default, 262144 bytes.
const DefaultSnaplen = 262144

// maxInsns is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxInsns = 4096

// Compile returns the classic BPF program of f for link type lt. The
// program returns snaplen (DefaultSnaplen when 0) for a packet that
// matches and 0 for one that does not, as libpcap's do. A nil f accepts
// everything. The error wraps ErrLinkType or ErrTooLong.
func (f *Filter) Compile(lt layers.LinkType, snaplen int) ([]bpf.Instruction, error) {
	l, ok := layoutOf(lt)
	if !ok {
		return nil, fmt.Errorf("pcapfilter: %w: %v (%d); the filter compiles for Ethernet, Linux cooked (SLL, SLL2) and raw IP", ErrLinkType, lt, uint16(lt))
	}
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	var p pred = predTrue{}
	if f != nil {
		p = compiler{l}.pred(f.root)
	}
	return generate(p, uint32(snaplen))
}

// insn is an instruction being generated. Jumps name their targets by
// the instruction they land on, so that inserting trampolines keeps them
// right.
type insn struct {
	ins  bpf.Instruction // a load, ALU op or return; nil for a jump
	cond bool            // a conditional jump on jop and val to t or f
	jop  bpf.JumpTest
	val  uint32
	t, f *insn
	to   *insn // an unconditional jump (ja) when ins is nil and !cond
}

// gen emits code for a predicate by short-circuit evaluation: each
// subexpression jumps to a true or a false label. All jumps go forward.
type gen struct {
	code    []*insn
	pending []*label // labels placed at the next instruction emitted
	fixups  []fixup  // jumps whose labels bind later
}

// fixup is a jump emitted before its targets: t (and f for a
// conditional jump) are bound when the code is complete.
type fixup struct {
	in   *insn
	t, f *label
}

// label is a jump target, bound to the instruction emitted after it was
// placed.
type label struct{ at *insn }

func (g *gen) emit(in *insn) {
	for _, l := range g.pending {
		l.at = in
	}
	g.pending = g.pending[:0]
	g.code = append(g.code, in)
}

func (g *gen) place(l *label) { g.pending = append(g.pending, l) }

// cond emits code that goes to t when p holds and to f otherwise.
func (g *gen) cond(p pred, t, f *label) {
	switch p := p.(type) {
	case predTrue:
		g.jump(t)
	case predFalse:
		g.jump(f)
	case predNot:
		g.cond(p.x, f, t)
	case predAnd:
		for _, x := range p[:len(p)-1] {
			next := &label{}
			g.cond(x, next, f)
			g.place(next)
		}
		g.cond(p[len(p)-1], t, f)
	case predOr:
		for _, x := range p[:len(p)-1] {
			next := &label{}
			g.cond(x, t, next)
			g.place(next)
		}
		g.cond(p[len(p)-1], t, f)
	case test:
		if p.ind {
			g.emit(&insn{ins: bpf.LoadMemShift{Off: p.xoff}})
			g.emit(&insn{ins: bpf.LoadIndirect{Off: p.off, Size: p.size}})
		} else {
			g.emit(&insn{ins: bpf.LoadAbsolute{Off: p.off, Size: p.size}})
		}
		if p.mask != 0 {
			g.emit(&insn{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: p.mask}})
		}
		g.emitJump(&insn{cond: true, jop: jumpTests[p.op], val: p.val}, t, f)
	default:
		panic(fmt.Sprintf("pcapfilter: unknown predicate %T", p))
	}
}

// jump emits an unconditional jump to l.
func (g *gen) jump(l *label) {
	in := &insn{}
	g.emit(in)
	g.fixups = append(g.fixups, fixup{in, l, nil})
}

// emitJump emits a conditional jump to t or f.
func (g *gen) emitJump(in *insn, t, f *label) {
	g.emit(in)
	g.fixups = append(g.fixups, fixup{in, t, f})
}

// generate compiles p into a program that returns snaplen or 0.
func generate(p pred, snaplen uint32) ([]bpf.Instruction, error) {
	switch p.(type) {
	case predTrue:
		return []bpf.Instruction{bpf.RetConstant{Val: snaplen}}, nil
	case predFalse:
		return []bpf.Instruction{bpf.RetConstant{Val: 0}}, nil
	}
	g := &gen{}
	accept, reject := &label{}, &label{}
	g.cond(p, accept, reject)
	g.place(accept)
	g.emit(&insn{ins: bpf.RetConstant{Val: snaplen}})
	g.place(reject)
	g.emit(&insn{ins: bpf.RetConstant{Val: 0}})
	for _, fx := range g.fixups {
		if fx.in.cond {
			fx.in.t, fx.in.f = fx.t.at, fx.f.at
		} else {
			fx.in.to = fx.t.at
		}
	}
	code, err := trampolines(g.code)
	if err != nil {
		return nil, err
	}
	return lower(code), nil
}

// trampolines makes every conditional jump fit its 8-bit offsets: a
// target further than 255 instructions is reached through an
// unconditional jump (32-bit offset) inserted right after the conditional
// one. Insertions lengthen other jumps, so it repeats until all fit.
func trampolines(code []*insn) ([]*insn, error) {
	for {
		if len(code) > maxInsns {
			return nil, fmt.Errorf("pcapfilter: %w: more than %d instructions", ErrTooLong, maxInsns)
		}
		pos := make(map[*insn]int, len(code))
		for i, in := range code {
			pos[in] = i
		}
		far := -1
		for i, in := range code {
			if in.cond && (pos[in.t]-i-1 > 255 || pos[in.f]-i-1 > 255) {
				far = i
				break
			}
		}
		if far < 0 {
			return code, nil
		}
		in := code[far]
		var tramp []*insn
		if pos[in.t]-far-1 > 255 {
			j := &insn{to: in.t}
			in.t = j
			tramp = append(tramp, j)
		}
		if pos[in.f]-far-1 > 255 {
			j := &insn{to: in.f}
			in.f = j
			tramp = append(tramp, j)
		}
		code = append(code[:far+1], append(tramp, code[far+1:]...)...)
	}
}

// lower turns the generated code into x/net/bpf instructions with
// relative offsets.
func lower(code []*insn) []bpf.Instruction {
	pos := make(map[*insn]int, len(code))
	for i, in := range code {
		pos[in] = i
	}
	out := make([]bpf.Instruction, len(code))
	for i, in := range code {
		switch {
		case in.ins != nil:
			out[i] = in.ins
		case in.cond:
			out[i] = bpf.JumpIf{Cond: in.jop, Val: in.val,
				SkipTrue: uint8(pos[in.t] - i - 1), SkipFalse: uint8(pos[in.f] - i - 1)}
		default:
			out[i] = bpf.Jump{Skip: uint32(pos[in.to] - i - 1)}
		}
	}
	return out
}
