package pcapfilter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// ParseProgram reads a classic BPF program as `tcpdump -ddd` prints it:
//
//	4                  the instruction count
//	40 0 0 12          code jt jf k, decimal, one instruction a line
//	21 0 1 2048
//	6 0 0 262144
//	6 0 0 0
//
// The C-array form of `tcpdump -dd` ({ 0x28, 0, 0, 0x0000000c },) is read
// too. Blank lines and lines starting with # are skipped. The program is
// checked with x/net/bpf's disassembler (jumps in range, a return at the
// end); Linux ancillary loads (ld #proto and the like) are kept.
func ParseProgram(r io.Reader) ([]bpf.RawInstruction, error) {
	var prog []bpf.RawInstruction
	count := -1
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(s, ","), "{"), "}")
		s = strings.TrimSpace(s)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
		if len(fields) == 1 && count < 0 && len(prog) == 0 {
			n, err := strconv.ParseUint(fields[0], 0, 16)
			if err != nil {
				return nil, fmt.Errorf("pcapfilter: line %d: the instruction count %q is not a number", line, fields[0])
			}
			count = int(n)
			continue
		}
		if len(fields) != 4 {
			return nil, fmt.Errorf("pcapfilter: line %d: want 4 numbers (code jt jf k, as `tcpdump -ddd` prints), found %q", line, s)
		}
		var v [4]uint64
		for i, f := range fields {
			n, err := strconv.ParseUint(f, 0, []int{16, 8, 8, 32}[i])
			if err != nil {
				return nil, fmt.Errorf("pcapfilter: line %d: %q is not a number in range", line, f)
			}
			v[i] = n
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
		if len(prog) > maxInsns {
			return nil, fmt.Errorf("pcapfilter: %w: more than %d instructions", ErrTooLong, maxInsns)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pcapfilter: reading the program: %w", err)
	}
	if len(prog) == 0 {
		return nil, errors.New("pcapfilter: the program is empty: produce it with `tcpdump -y LINKTYPE -ddd 'EXPR'`")
	}
	if count >= 0 && count != len(prog) {
		return nil, fmt.Errorf("pcapfilter: the program announces %d instructions and has %d (cut short?)", count, len(prog))
	}
	if err := checkProgram(prog); err != nil {
		return nil, err
	}
	return prog, nil
}

// checkProgram checks what the kernel would refuse: unknown opcodes, jumps
// past the end, and a last instruction that is not a return.
func checkProgram(prog []bpf.RawInstruction) error {
	ins, ok := bpf.Disassemble(prog)
	if !ok {
		for i, in := range ins {
			if _, bad := in.(bpf.RawInstruction); bad {
				return fmt.Errorf("pcapfilter: instruction %d (opcode %#x) is not classic BPF", i, prog[i].Op)
			}
		}
	}
	for i, in := range ins {
		end := 0
		switch j := in.(type) {
		case bpf.Jump:
			end = i + 1 + int(j.Skip)
		case bpf.JumpIf:
			end = i + 1 + int(max(j.SkipTrue, j.SkipFalse))
		case bpf.JumpIfX:
			end = i + 1 + int(max(j.SkipTrue, j.SkipFalse))
		}
		if end >= len(ins) {
			return fmt.Errorf("pcapfilter: instruction %d jumps past the end of the program", i)
		}
	}
	switch ins[len(ins)-1].(type) {
	case bpf.RetA, bpf.RetConstant:
		return nil
	}
	return fmt.Errorf("pcapfilter: the program does not end with a return")
}
