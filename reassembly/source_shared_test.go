package reassembly

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sharedCaptures are the public captures in ../../shared/captures (never
// copied into the repository; see PROVENANCE.md there), with counts
// measured with tshark 4.x:
//
//	capinfos -c -M FILE               # records
//	tshark -r FILE -Y tcp | wc -l     # TCP packets
var sharedCaptures = []struct {
	name         string
	records, tcp int64
}{
	{"BruteShark-http-negotiate-kerberos-500.pcap", 26, 22},
	{"BruteShark-http-negotiate-kerberos-iis.pcap", 68, 58},
	{"BruteShark-http-negotiate-raw-ntlm.pcap", 16, 16},
	{"BruteShark-http-negotiate-raw-ntlm.pcapng", 16, 16},
	{"BruteShark-http-ntlm-midstream.pcap", 80, 80},
	{"BruteShark-http-ntlm-midstream.pcapng", 80, 80},
	{"OTRF-winrm-kerberos-scheme.pcap", 742, 700},
	{"arkime-ntlm-synthetic-ipv6.pcap", 218, 218},
	{"nDPI-webdav-curl-iis.pcap", 92, 92},
	{"non-http/OISF-suricata-verify-dcerpc-auth3-5133__input.pcap", 30, 30},
	{"non-http/arkime-arkime-smbtorture-ntlmssp-moloch-crash.pcap", 14, 14},
	{"non-http/arkime-arkime-smbtorture-ntlmssp.pcap", 14, 14},
	{"non-http/arkime-arkime-wireshark-smb-on-windows10.pcap", 125, 125},
	{"non-http/odedshimon-BruteShark-SMB-NTLM-cifs_SessionSetupAndX_NTLM_Plain.pcap", 24, 24},
	{"non-http/odedshimon-BruteShark-SMB-NTLMSSP-Single-Session-Windows-10.pcap", 10, 10},
	{"non-http/zeek-zeek-aduser1-ntlm.pcap", 13, 13},
	{"non-http/zeek-zeek-dce_rpc_ntlm.pcapng", 6, 6},
	{"non-http/zeek-zeek-ldap_invalid_credentials.pcap", 49, 49},
	{"non-http/zeek-zeek-ntlm-empty-av-sequence.pcap", 5, 5},
	{"non-http/zeek-zeek-ntlm-unterminated-av-sequence.pcap", 5, 5},
	{"non-http/zeek-zeek-raw_ntlm_in_smb.pcap", 178, 176},
}

// sharedDir returns the shared captures directory, or skips the test when
// it is absent (fails instead under NTLMSCOPE_REQUIRE_SHARED=1).
func sharedDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "shared", "captures")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("NTLMSCOPE_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared captures required but missing: %v", err)
		}
		t.Skipf("shared captures not found at %s (set NTLMSCOPE_REQUIRE_SHARED=1 to make this fail)", dir)
	}
	return dir
}

// TestSharedCaptures reads the real captures: every record is counted, and
// the TCP packets are tshark's. Where tshark is installed (and not in
// -short mode) their frame numbers, ports and lengths are compared too.
func TestSharedCaptures(t *testing.T) {
	dir := sharedDir(t)
	tshark, _ := exec.LookPath("tshark")
	for _, c := range sharedCaptures {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			src, err := OpenFiles([]string{path}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, st := srcDrain(t, src)
			if st.Packets != c.records || st.TCP != c.tcp || int64(len(got)) != c.tcp {
				t.Errorf("records %d, TCP %d (returned %d); tshark: %d, %d", st.Packets, st.TCP, len(got), c.records, c.tcp)
			}
			if st.Malformed != 0 || st.CorruptRecords != 0 || st.UnknownLinkType != 0 || len(st.Warnings) != 0 {
				t.Errorf("stats %+v", st)
			}
			if tshark == "" || testing.Short() {
				return
			}
			out, err := exec.Command(tshark, "-r", path, "-Y", "tcp", "-T", "fields", "-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.len").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			var mine []string
			for _, s := range got {
				mine = append(mine, strconv.FormatInt(s.Frame, 10)+"\t"+strconv.Itoa(int(s.Src.Port()))+"\t"+strconv.Itoa(len(s.Payload)))
			}
			want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			for i := range min(len(want), len(mine)) {
				if mine[i] != want[i] {
					t.Errorf("packet %d: frame/port/len %q, tshark %q", i, mine[i], want[i])
					break
				}
			}
		})
	}
}
