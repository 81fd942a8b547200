package reassembly

import (
	"golang.org/x/net/bpf"
)

// Linux packet types (if_packet.h) and ARPHRD values the kernel program
// tests through ancillary loads.
const (
	packetOutgoing = 4 // PACKET_OUTGOING: a packet this host sends
)

// kernelGuards are tests put in front of the user's program in the
// kernel, with Linux's ancillary loads (SKF_AD_*), which only the kernel
// can run.
type kernelGuards struct {
	// loopback drops the outgoing copy of packets on loopback
	// interfaces. AF_PACKET sees a loopback packet twice: once sent
	// (PACKET_OUTGOING), once received; tcpdump keeps the received one.
	// gopacket's afpacket does not expose its socket for
	// PACKET_IGNORE_OUTGOING, and that option would drop outgoing packets
	// of every interface under -i any, so the program tests the packet
	// type on loopback interfaces only.
	loopback bool
	// ipOnly keeps IPv4 and IPv6 only. A cooked (SOCK_DGRAM) socket
	// delivers packets without their link header, and afpacket does not
	// pass on their protocol: the program makes sure every packet is IP,
	// which is then told by its version nibble, as raw IP.
	ipOnly bool
}

// kernelProgram is the program attached to the socket: the guards, then
// the user's program with its accepting returns cut to snaplen (libpcap
// sets the snap length the same way: a filter's return value is how many
// bytes the kernel keeps). A nil user program accepts everything.
//
//	0  ld #hatype              (loopback guard)
//	1  jeq #772, 2, 4
//	2  ld #type
//	3  jeq #PACKET_OUTGOING, drop, 4
//	4  ld #proto               (IP guard)
//	5  jeq #0x0800, user, 6
//	6  jeq #0x86dd, user, drop
//	   drop: ret #0
//	   user: the user's program
func kernelProgram(g kernelGuards, user []bpf.RawInstruction, snaplen uint32) ([]bpf.RawInstruction, error) {
	n := 0 // guard instructions
	if g.loopback {
		n += 4
	}
	if g.ipOnly {
		n += 3
	}
	drop, userAt := n, n+1
	skip := func(from, to int) uint8 { return uint8(to - from - 1) }
	var prog []bpf.Instruction
	if g.loopback {
		next := userAt // where a packet that passes goes: the IP guard or the user
		if g.ipOnly {
			next = 4
		}
		prog = append(prog,
			bpf.LoadExtension{Num: bpf.ExtLinkLayerType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: arphrdLoopback, SkipTrue: 0, SkipFalse: skip(1, next)},
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: skip(3, drop), SkipFalse: skip(3, next)},
		)
	}
	if g.ipOnly {
		b := len(prog)
		prog = append(prog,
			bpf.LoadExtension{Num: bpf.ExtProto},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipTrue: skip(b+1, userAt)},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x86dd, SkipTrue: skip(b+2, userAt), SkipFalse: skip(b+2, drop)},
		)
	}
	if n > 0 {
		prog = append(prog, bpf.RetConstant{Val: 0})
	}
	head, err := bpf.Assemble(prog)
	if err != nil {
		return nil, err
	}
	if len(user) == 0 {
		user = []bpf.RawInstruction{{Op: bpfRetK, K: snaplen}}
	}
	out := append(head, user...)
	for i := len(head); i < len(out); i++ {
		if out[i].Op == bpfRetK && out[i].K > snaplen {
			out[i].K = snaplen
		}
	}
	return out, nil
}

// bpfRetK is the opcode of "ret #k" (BPF_RET | BPF_K).
const bpfRetK = 0x06
