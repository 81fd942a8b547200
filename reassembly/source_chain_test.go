package reassembly

import "testing"

// TestNameStem: the files of one ring buffer share a stem, and two
// hosts' or interfaces' rings do not.
func TestNameStem(t *testing.T) {
	for _, tc := range []struct {
		path, want string
	}{
		{"/c/client_00001_20240311080000.pcapng", "/c/client.pcapng"},
		{"/c/client_00002_20240311080512.pcapng", "/c/client.pcapng"},
		{"web01_00001_20240311080000.pcapng", "web01.pcapng"},
		{"web02_00001_20240311080000.pcapng", "web02.pcapng"},
		{"eth0_00007_20240311080000.pcapng.gz", "eth0.pcapng.gz"},
		{"ens192_00007_20240311080000.pcap", "ens192.pcap"},
		{"cap", "cap"},
		{"cap1", "cap"},
		{"cap12", "cap"},
		{"trace.pcap", "trace.pcap"},
		{"trace.pcap1", "trace.pcap"},
		{"trace.pcap17", "trace.pcap"},
		{"cap-20240311-0800.pcap", "cap.pcap"},
		{"cap-20240311-0900.pcap", "cap.pcap"},
		{"trace_2024-03-11T08-00-00.pcap", "trace.pcap"},
		{"host1-ring1.pcap", "host1-ring.pcap"},
		{"host2-ring1.pcap", "host2-ring.pcap"},
		{"ring_00001.pcap", "ring.pcap"},
		{"10.0.0.5_00001_20240311080000.pcap", "10.0.0.5.pcap"},
		{"12345.pcap", "12345.pcap"},
		{"-", "-"},
	} {
		if got := nameStem(tc.path); got != tc.want {
			t.Errorf("nameStem(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
