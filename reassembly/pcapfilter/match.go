package pcapfilter

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Matcher applies a filter to captured frames, running the same classic
// BPF program a live capture gives the kernel in x/net/bpf's VM, so a file
// filtered with -f keeps exactly the packets a live capture with -f would
// have kept. A program is compiled the first time a link type is seen.
//
// A Matcher is not safe for concurrent use.
type Matcher struct {
	f       *Filter
	raw     *bpf.VM // a program given as such, for every link type
	vms     map[layers.LinkType]*bpf.VM
	skipped map[layers.LinkType]int64 // frames on link types f does not compile for
}

// NewMatcher returns a Matcher for f (nil matches everything).
func NewMatcher(f *Filter) *Matcher {
	return &Matcher{f: f, vms: map[layers.LinkType]*bpf.VM{}, skipped: map[layers.LinkType]int64{}}
}

// NewProgramMatcher returns a Matcher that runs prog on frames of every
// link type (the program was written for one: the caller knows which).
// Programs using Linux ancillary loads run only in the kernel and are
// refused here.
func NewProgramMatcher(prog []bpf.RawInstruction) (*Matcher, error) {
	ins, _ := bpf.Disassemble(prog)
	vm, err := bpf.NewVM(ins)
	if err != nil {
		return nil, fmt.Errorf("pcapfilter: the program cannot run on files: %v (programs that read Linux ancillary data, as tcpdump -i any compiles them, work only for live captures)", err)
	}
	m := NewMatcher(nil)
	m.raw = vm
	return m, nil
}

// Match reports whether the filter keeps frame, captured on link type lt.
// Frames of a link type the filter does not compile for are not kept, and
// counted (see Warnings).
func (m *Matcher) Match(lt layers.LinkType, frame []byte) bool {
	vm := m.raw
	if vm == nil {
		if m.f == nil {
			return true
		}
		var ok bool
		if vm, ok = m.vms[lt]; !ok {
			vm = m.compile(lt)
			m.vms[lt] = vm
		}
	}
	if vm == nil {
		m.skipped[lt]++
		return false
	}
	n, err := vm.Run(frame)
	return err == nil && n > 0
}

// compile builds the VM for lt, or nil when f does not compile for it.
func (m *Matcher) compile(lt layers.LinkType) *bpf.VM {
	prog, err := m.f.Compile(lt, 0)
	if err != nil {
		return nil
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		panic("pcapfilter: generated program refused by the VM: " + err.Error())
	}
	return vm
}

// Warnings says, one line per link type, how many frames were dropped
// because the filter does not compile for their link type.
func (m *Matcher) Warnings() []string {
	var out []string
	for _, lt := range slices.Sorted(maps.Keys(m.skipped)) {
		out = append(out, fmt.Sprintf("%d packets on link type %v (%d) were left out: the filter compiles for Ethernet, Linux cooked and raw IP only",
			m.skipped[lt], lt, uint16(lt)))
	}
	return out
}
