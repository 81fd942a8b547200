//go:build !linux

package reassembly

import (
	"io"

	"github.com/gopacket/gopacket/layers"
)

// LiveSource is a live capture. This build has none: live capture uses
// Linux's AF_PACKET sockets (a -tags libpcap build of the command can use
// libpcap elsewhere).
type LiveSource struct{ iface LiveInterface }

// OpenLive fails with ErrLiveUnsupported on this system.
func OpenLive(opts LiveOptions) (*LiveSource, error) {
	return nil, &LiveError{Interface: opts.Interface, Err: ErrLiveUnsupported,
		Hint: "capture with tcpdump or Wireshark and run `ntlmscope analyze` on the file"}
}

// LinkType returns how captured packets start.
func (s *LiveSource) LinkType() layers.LinkType { return s.iface.LinkType }

// Interface returns the interface captured on.
func (s *LiveSource) Interface() LiveInterface { return s.iface }

// SetWriter does nothing.
func (s *LiveSource) SetWriter(FrameWriter) {}

// Stop does nothing.
func (s *LiveSource) Stop() {}

// Next says io.EOF.
func (s *LiveSource) Next() (*Packet, error) { return nil, io.EOF }

// Stats returns no counts.
func (s *LiveSource) Stats() SourceStats { return SourceStats{} }

// Close does nothing.
func (s *LiveSource) Close() error { return nil }
