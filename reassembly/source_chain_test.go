package reassembly

import "testing"

// TestNameStem: the files of one ring buffer share a stem, and two
// hosts' or interfaces' rings do not.
func TestNameStem(t *testing.T) {
	for _, tc := range []struct {
		path, want string
	}{
		// dumpcap -b, editcap -c
		{"/c/client_00001_20240311080000.pcapng", "/c/client#.pcapng"},
		{"/c/client_00002_20240311080512.pcapng", "/c/client#.pcapng"},
		{"/c/client.pcapng", "/c/client.pcapng"}, // a lone capture beside the ring
		{"web01_00001_20240311080000.pcapng", "web01#.pcapng"},
		{"web02_00001_20240311080000.pcapng", "web02#.pcapng"},
		{"web-01_00001_20240311080000.pcapng", "web-01#.pcapng"},
		{"ip-10-0-0-5_00001_20240311080000.pcap", "ip-10-0-0-5#.pcap"},
		{"10_0_0_5_00001_20240311080000.pcap", "10_0_0_5#.pcap"},
		{"CLIENT01_00001_20240311080000.pcap", "CLIENT01#.pcap"},
		{"eth0_00007_20240311080000.pcapng.gz", "eth0#.pcapng.gz"},
		{"10.0.0.5_00001_20240311080000.pcap", "10.0.0.5#.pcap"},
		{"ring_00001.pcap", "ring#.pcap"},
		// tcpdump -C
		{"cap", "cap"},
		{"cap1", "cap"},
		{"cap12", "cap"},
		{"trace.pcap", "trace.pcap"},
		{"trace.pcap1", "trace.pcap"},
		{"trace.pcap17", "trace.pcap"},
		{"web01.pcap", "web01.pcap"},
		{"web01.pcap1", "web01.pcap"},
		{"eth0.pcap3", "eth0.pcap"},
		{"gc_093234.pcap", "gc#.pcap"},
		{"gc_093234.pcap1", "gc#.pcap"},
		// tcpdump -G
		{"cap-20240311-0800.pcap", "cap#.pcap"},
		{"cap-20240311-0900.pcap", "cap#.pcap"},
		{"trace_2024-03-11T08-00-00.pcap", "trace#.pcap"},
		{"web01_2024-03-11_08:00:57.pcap", "web01#.pcap"},
		{"HOST1_2024-03-11T08-00-00.pcap", "HOST1#.pcap"},
		{"eth0-1710144000.pcap", "eth0#.pcap"},
		{"1710144000.pcap", "#.pcap"},
		{"20240311080000.pcap", "#.pcap"},
		// hosts' numbers stay
		{"node-1.pcap", "node-1.pcap"},
		{"host1-ring1.pcap", "host1-ring1.pcap"},
		{"-", "-"},
	} {
		if got := nameStem(tc.path); got != tc.want {
			t.Errorf("nameStem(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
