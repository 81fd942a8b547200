package reassembly

import (
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// TestDecodeEncapsulations reads the same conversation in every link type
// and tunnel, IPv4 and IPv6, pcap and pcapng.
func TestDecodeEncapsulations(t *testing.T) {
	tests := []struct {
		name     string
		e        capwriter.Encap
		tunneled bool
	}{
		{"ethernet", capwriter.Encap{}, false},
		{"802.1Q", capwriter.Encap{VLANs: []uint16{100}}, false},
		{"QinQ", capwriter.Encap{VLANs: []uint16{100, 200}}, false},
		{"QinQ depth 5", capwriter.Encap{VLANs: []uint16{1, 2, 3, 4, 5}}, false},
		{"SLL", capwriter.Encap{Link: capwriter.SLL}, false},
		{"SLL2", capwriter.Encap{Link: capwriter.SLL2}, false},
		{"NULL little-endian", capwriter.Encap{Link: capwriter.Null}, false},
		{"NULL big-endian", capwriter.Encap{Link: capwriter.Null, NullBigEndian: true}, false},
		{"NULL FreeBSD AF_INET6", capwriter.Encap{Link: capwriter.Null, AFInet6: 28}, false},
		{"NULL macOS AF_INET6", capwriter.Encap{Link: capwriter.Null, AFInet6: 30}, false},
		{"LOOP", capwriter.Encap{Link: capwriter.Loop}, false},
		{"LOOP FreeBSD", capwriter.Encap{Link: capwriter.Loop, AFInet6: 28}, false},
		{"raw 101", capwriter.Encap{Link: capwriter.Raw}, false},
		{"raw 12", capwriter.Encap{Link: capwriter.Raw, RawLinkType: 12}, false},
		{"raw 14", capwriter.Encap{Link: capwriter.Raw, RawLinkType: 14}, false},
		{"GRE", capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.GRE}}, true},
		{"GRE key+seq+csum", capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.GREKeyed}}, true},
		{"GRE TEB", capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.GRETEB}}, true},
		{"ERSPAN II", capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.ERSPAN2}}, true},
		{"ERSPAN III", capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.ERSPAN3}}, true},
		{"ERSPAN III platform", capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.ERSPAN3Platform}}, true},
		{"VXLAN", capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.VXLAN}}, true},
		{"VXLAN in ERSPAN in GRE over VLAN", capwriter.Encap{VLANs: []uint16{7}, Tunnels: []capwriter.Tunnel{capwriter.GRE, capwriter.ERSPAN2, capwriter.VXLAN}}, true},
		{"4 nested tunnels", capwriter.Encap{Tunnels: []capwriter.Tunnel{capwriter.GRE, capwriter.GRETEB, capwriter.ERSPAN3, capwriter.VXLAN}}, true},
		{"SLL2 VXLAN", capwriter.Encap{Link: capwriter.SLL2, Tunnels: []capwriter.Tunnel{capwriter.VXLAN}}, true},
	}
	for _, ip := range []struct{ name, client, server string }{
		{"v4", "10.0.0.1:50000", "10.0.0.2:80"},
		{"v6", "[2001:db8::1]:50000", "[2001:db8::2]:80"},
	} {
		for _, tc := range tests {
			for _, f := range []capwriter.Format{capwriter.PCAP, capwriter.PCAPNG} {
				t.Run(ip.name+"/"+tc.name+"/"+[]string{"pcap", "", "pcapng"}[f], func(t *testing.T) {
					ps := srcConversation(ip.client, ip.server)
					got, st := srcDrain(t, srcOpenBytes(t, srcCapture(t, f, tc.e, ps)))
					srcCompare(t, got, srcExpect(ps))
					n := int64(len(ps))
					if st.Packets != n || st.TCP != n || st.NonTCP != 0 || st.Malformed != 0 || st.CorruptRecords != 0 {
						t.Errorf("stats %+v", st)
					}
					if tun := st.Tunnelled == n; tun != tc.tunneled {
						t.Errorf("Tunnelled = %d of %d", st.Tunnelled, n)
					}
				})
			}
		}
	}
}

// TestDecodeRawIPLinkTypes covers LINKTYPE_IPV4 (228) and LINKTYPE_IPV6
// (229), which each hold one IP version.
func TestDecodeRawIPLinkTypes(t *testing.T) {
	for _, tc := range []struct {
		link           capwriter.Link
		client, server string
	}{
		{capwriter.RawIPv4, "192.0.2.1:1", "192.0.2.2:80"},
		{capwriter.RawIPv6, "[2001:db8::1]:1", "[2001:db8::2]:80"},
	} {
		ps := srcConversation(tc.client, tc.server)
		got, _ := srcDrain(t, srcOpenBytes(t, srcCapture(t, capwriter.PCAP, capwriter.Encap{Link: tc.link}, ps)))
		srcCompare(t, got, srcExpect(ps))
	}
}

// TestDecodeFragments reassembles IPv4 and IPv6 fragments, also inside a
// tunnel; a datagram counts on the frame of its last fragment, as in
// Wireshark.
func TestDecodeFragments(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, server string
		tunnels        []capwriter.Tunnel
	}{
		{"v4", "10.0.0.1:50000", "10.0.0.2:80", nil},
		{"v6", "[2001:db8::1]:50000", "[2001:db8::2]:80", nil},
		{"v4 in GRE", "10.0.0.1:50000", "10.0.0.2:80", []capwriter.Tunnel{capwriter.GRE}},
		{"v6 in VXLAN", "[2001:db8::1]:50000", "[2001:db8::2]:80", []capwriter.Tunnel{capwriter.VXLAN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := srcConversation(tc.client, tc.server)
			e := capwriter.Encap{FragmentSize: 16, Tunnels: tc.tunnels}
			var want []srcSeg
			var frame, frags, whole int64
			for _, p := range ps {
				fs, err := e.Frames(p)
				if err != nil {
					t.Fatal(err)
				}
				frame += int64(len(fs))
				if len(fs) > 1 {
					frags += int64(len(fs))
					whole++
				}
				want = append(want, srcSeg{Frame: frame, Src: p.Src, Dst: p.Dst, Seq: p.Seq, Payload: string(p.Payload)})
			}
			if whole == 0 {
				t.Fatal("nothing was fragmented")
			}
			got, st := srcDrain(t, srcOpenBytes(t, srcCapture(t, capwriter.PCAP, e, ps)))
			srcCompare(t, got, want)
			if st.Fragments != frags || st.FragmentsReassembled != whole || st.Packets != frame || st.TCP != int64(len(ps)) {
				t.Errorf("stats %+v; want %d fragments, %d reassembled", st, frags, whole)
			}
		})
	}
}
