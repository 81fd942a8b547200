package reassembly

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/ntlmscope/ntlmscope/reassembly/pcapfilter"
)

// AnyInterface is the interface name that captures on every interface.
const AnyInterface = "any"

// Defaults of LiveOptions.
const (
	DefaultLiveBuffer  = 16 << 20               // ring buffer bytes
	DefaultPollTimeout = 100 * time.Millisecond // how often Next looks up from an idle socket
	// stopDrain bounds how long Next goes on reading after Stop: what the
	// kernel already queued is read, but a busy interface cannot keep the
	// capture from ending.
	stopDrain = 300 * time.Millisecond
)

// LiveOptions configure OpenLive.
type LiveOptions struct {
	// Interface is the interface name, or AnyInterface.
	Interface string
	// Filter is applied by the kernel; nil captures everything.
	Filter *pcapfilter.Filter
	// Program, when set, is used instead of Filter: a classic BPF program
	// as `tcpdump -ddd` prints it, compiled for the link type the capture
	// delivers (see LiveSource.LinkType: Ethernet on Ethernet-like
	// interfaces, raw IP on the others and on "any").
	Program []bpf.RawInstruction
	// Snaplen is how many bytes of each packet are kept
	// (pcapfilter.DefaultSnaplen when 0).
	Snaplen int
	// Promisc puts the interface in promiscuous mode for the capture.
	Promisc bool
	// BufferSize is the kernel ring's size in bytes (DefaultLiveBuffer
	// when 0), rounded up to whole 1 MiB blocks.
	BufferSize int
	// PollTimeout is how long Next waits on an idle socket before it
	// looks at Stop and calls Idle (DefaultPollTimeout when 0).
	PollTimeout time.Duration
	// MaxPackets ends the capture (Next says io.EOF) after this many
	// captured packets, TCP or not; 0 means no limit.
	MaxPackets int64
	// Writer, when set, receives every captured packet before it is
	// decoded (to save them). A write error is fatal.
	Writer FrameWriter
	// Idle, when set, is called from Next, in the caller's goroutine,
	// each time PollTimeout passes without a packet: a single-threaded
	// caller can refresh a status line or flush its output there.
	Idle func(now time.Time)
}

// Frame is one captured packet as a FrameWriter gets it.
type Frame struct {
	// Time is the kernel's capture timestamp.
	Time time.Time
	// Data is the packet as captured (at most the snap length); it is
	// valid only during WriteFrame.
	Data []byte
	// Length is the packet's length on the wire.
	Length int
	// LinkType is how Data starts: Ethernet or raw IP.
	LinkType layers.LinkType
	// Interface is where the packet was captured: with "any", each
	// packet's own interface.
	Interface LiveInterface
}

// FrameWriter saves captured packets.
type FrameWriter interface {
	// WriteFrame saves f and returns the index, in Files, of the file it
	// went to. The live source numbers frames per file from it, so frame
	// numbers in the report are those Wireshark shows in that file.
	WriteFrame(f *Frame) (file int, err error)
	// Files lists the files written so far, in order.
	Files() []string
}

// Errors a *LiveError wraps, for callers that test with errors.Is.
var (
	// ErrNoPrivilege: the process may not open a packet socket.
	ErrNoPrivilege = errors.New("not permitted to capture packets")
	// ErrNoInterface: no interface has the name given.
	ErrNoInterface = errors.New("no such interface")
	// ErrLiveUnsupported: this build cannot capture live.
	ErrLiveUnsupported = errors.New("live capture is not supported on this system")
)

// PrivilegeHint says how to get the privilege to capture.
const PrivilegeHint = "run as root, or setcap cap_net_raw,cap_net_admin+eip $(which ntlmscope)"

// LiveError is a live capture that could not start or went wrong.
type LiveError struct {
	// Interface is the interface as given.
	Interface string
	// Err says what is wrong.
	Err error
	// Hint says what to do about it, or is empty.
	Hint string
}

// Error returns one line: "capture on eth0: ...: hint".
func (e *LiveError) Error() string {
	s := fmt.Sprintf("capture on %s: %v", e.Interface, e.Err)
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

// Unwrap returns Err.
func (e *LiveError) Unwrap() error { return e.Err }

// noInterface is the error for an unknown interface name: it lists the
// interfaces there are.
func noInterface(name string) error {
	names := []string{AnyInterface}
	if ifs, err := Interfaces(); err == nil {
		for _, i := range ifs {
			names = append(names, i.Name)
		}
	}
	return &LiveError{Interface: name, Err: ErrNoInterface,
		Hint: "the interfaces are " + strings.Join(names, ", ") + " (see `ntlmscope interfaces`)"}
}

// liveName names a live capture in SourceStats.Files when no file is
// written: frame numbers then count the packets of the capture.
func liveName(iface string) string { return "live:" + iface }
