package reassembly

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

// synthNTLM is a synthetic connection carrying a three-leg NTLM handshake
// and a large page, in TLS 1.2 or 1.3 with suite.
func synthNTLM(t testing.TB, version, suite uint16) *tlsSynth {
	s := newSynth(t, version, suite, byte(suite))
	s.handshake("http/1.1")
	s.ntlmRound("/a", "")
	s.ntlmRound("/a", "NTLM "+tlslab.Type1)
	s.data(0, "GET /a HTTP/1.1\r\nHost: intranet.lab.test\r\nAuthorization: NTLM "+tlslab.Type3+"\r\n\r\n")
	s.data(1, "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n"+strings.Repeat("p", 40000))
	s.data(0, "GET /b HTTP/1.1\r\nHost: intranet.lab.test\r\n\r\n")
	s.data(1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	return s
}

var synthSuites = []struct {
	name           string
	version, suite uint16
}{
	{"tls12-aes128gcm", versionTLS12, 0xc02f},
	{"tls12-aes256gcm", versionTLS12, 0xc030},
	{"tls12-chacha20", versionTLS12, 0xcca8},
	{"tls13-aes128gcm", versionTLS13, 0x1301},
	{"tls13-aes256gcm", versionTLS13, 0x1302},
	{"tls13-chacha20", versionTLS13, 0x1303},
}

// statuses lists the start lines of the messages heard.
func statuses(log *msgLog) []string {
	var out []string
	for _, m := range log.msgs {
		f := strings.Fields(m)
		switch {
		case f[0] == "req=true":
			out = append(out, f[1]+" "+f[2])
		default:
			out = append(out, f[2])
		}
		if strings.Contains(m, "incomplete=true") {
			out[len(out)-1] += " (incomplete)"
		}
	}
	return out
}

var synthWant = "GET /a|401|GET /a|401|GET /a|200|GET /b|200"

// byDirection splits statuses into requests and responses: after a hole,
// one direction's messages may come out later than the other's.
func byDirection(log *msgLog) (reqs, resps string) {
	var q, r []string
	for _, s := range statuses(log) {
		if strings.HasPrefix(s, "GET ") || strings.HasPrefix(s, "POST ") {
			q = append(q, s)
		} else {
			r = append(r, s)
		}
	}
	return strings.Join(q, "|"), strings.Join(r, "|")
}

func TestTLSSynthSuites(t *testing.T) {
	for _, c := range synthSuites {
		t.Run(c.name, func(t *testing.T) {
			s := synthNTLM(t, c.version, c.suite)
			for _, mss := range []int{1460, 7, 65000} {
				log, st, _ := analyse(t, s.capture(mss), keyLogOf(t, s.keyLog()))
				if got := strings.Join(statuses(log), "|"); got != synthWant {
					t.Errorf("mss %d: %s, want %s", mss, got, synthWant)
				}
				info := log.closed[0].TLS
				if st.TLSDecrypted != 1 || info.ServerName != "intranet.lab.test" || info.ALPN != "http/1.1" || info.CipherSuite != c.suite || info.Version != c.version {
					t.Errorf("mss %d: stats %+v info %+v", mss, st, info)
				}
			}
		})
	}
}

// TestTLSSeveralRecordsPerSegment re-segments each run of bytes one side
// sends at sizes that cut records anywhere: many records in one segment,
// record headers split across segments, single-byte segments.
func TestTLSSeveralRecordsPerSegment(t *testing.T) {
	s := synthNTLM(t, versionTLS12, 0xcca8)
	c := capwriter.NewConversation(s.packets(1460)[0].Src, s.packets(1460)[0].Dst)
	c.Handshake()
	sizes := []int{1, 5, 3001, 16000, 65000, 2, 7}
	for i := 0; i < len(s.chunks); {
		j, run := i, []byte(nil)
		for ; j < len(s.chunks) && s.chunks[j].toServer == s.chunks[i].toServer; j++ {
			run = append(run, s.chunks[j].data...)
		}
		d := capwriter.ToClient
		if s.chunks[i].toServer {
			d = capwriter.ToServer
		}
		c.MSS = sizes[i%len(sizes)]
		c.Send(d, run)
		i = j
	}
	c.Close()
	b, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{}, c.Packets())
	if err != nil {
		t.Fatal(err)
	}
	log, st, _ := analyse(t, b, keyLogOf(t, s.keyLog()))
	if got := strings.Join(statuses(log), "|"); got != synthWant {
		t.Errorf("%s, want %s", got, synthWant)
	}
	if info := log.closed[0].TLS; info.LostRecords != [2]int{} || st.TLSDecrypted != 1 {
		t.Errorf("stats %+v info %+v", st, info)
	}
}

func TestTLS13KeyUpdate(t *testing.T) {
	s := newSynth(t, versionTLS13, 0x1303, 9)
	s.handshake("http/1.1")
	s.ntlmRound("/a", "")
	s.keyUpdate(0)
	s.keyUpdate(1)
	s.ntlmRound("/a", "NTLM "+tlslab.Type1)
	s.keyUpdate(1)
	s.keyUpdate(1)
	s.data(0, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	s.data(1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	log, st, _ := analyse(t, s.capture(1460), keyLogOf(t, s.keyLog()))
	if got, want := strings.Join(statuses(log), "|"), "GET /a|401|GET /a|401|GET /b|200"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
	if st.TLSFailedRecords != 0 || st.TLSStopped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestTLS13TrafficSecretsOnly: a key log without the handshake secrets
// still decrypts the application data: the keys switch when trying them
// works.
func TestTLS13TrafficSecretsOnly(t *testing.T) {
	s := synthNTLM(t, versionTLS13, 0x1302)
	var kl []string
	for _, line := range strings.Split(string(s.keyLog()), "\n") {
		if !strings.Contains(line, "HANDSHAKE") {
			kl = append(kl, line)
		}
	}
	log, st, _ := analyse(t, s.capture(1460), keyLogOf(t, []byte(strings.Join(kl, "\n"))))
	if got := strings.Join(statuses(log), "|"); got != synthWant {
		t.Errorf("%s, want %s", got, synthWant)
	}
	if st.TLSDecrypted != 1 || st.TLSFailedRecords != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestTLSWrongSecrets: secrets for the right client random that do not
// decrypt are counted (bad keys, failed records), never fatal.
func TestTLSWrongSecrets(t *testing.T) {
	for _, c := range synthSuites {
		t.Run(c.name, func(t *testing.T) {
			s := synthNTLM(t, c.version, c.suite)
			kl := s.keyLog()
			// Flip the last hex digit of every secret.
			lines := bytes.Split(bytes.TrimSpace(kl), []byte("\n"))
			for _, l := range lines {
				if l[len(l)-1] == '0' {
					l[len(l)-1] = '1'
				} else {
					l[len(l)-1] = '0'
				}
			}
			log, st, _ := analyse(t, s.capture(1460), keyLogOf(t, bytes.Join(lines, []byte("\n"))))
			if len(log.msgs) != 0 || st.TLSBadKeys != 1 || st.TLSFailedRecords == 0 || st.TLS != 1 {
				t.Errorf("%d messages, stats %+v", len(log.msgs), st)
			}
			cn := log.closed[0]
			if cn.Decrypted || cn.Protocol != ProtoTLS || cn.TLS.Outcome != TLSBadKeys {
				t.Errorf("conn %+v tls %+v", cn, cn.TLS)
			}
		})
	}
}

// recordBounds returns the offsets of the record headers in a stream.
func recordBounds(b []byte) []int {
	var out []int
	for off := 0; off+5 <= len(b); off += 5 + int(binary.BigEndian.Uint16(b[off+3:])) {
		out = append(out, off)
	}
	return out
}

// dropServerBytes returns the synthetic conversation's capture without the
// server segment holding byte off of the server's stream (MSS 1000).
func dropServerBytes(t *testing.T, s *tlsSynth, off int) []byte {
	t.Helper()
	pkts := s.packets(1000)
	base := pkts[1].Seq + 1 // the SYN/ACK's
	for i, p := range pkts {
		if p.Src == pkts[1].Src && len(p.Payload) > 0 && int(p.Seq-base) <= off && off < int(p.Seq-base)+len(p.Payload) {
			b, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{}, pkts.Drop(i))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no segment holds server byte %d", off)
	return nil
}

// TestTLSGapInsideRecord: a segment lost inside a record costs that record
// only: its end is known, and so are the sequence numbers after it.
func TestTLSGapInsideRecord(t *testing.T) {
	for _, c := range synthSuites {
		t.Run(c.name, func(t *testing.T) {
			s := synthNTLM(t, c.version, c.suite)
			stream := s.stream(1)
			bounds := recordBounds(stream)
			// The 200's body is in the records of 16 KiB: lose the middle
			// of the second one.
			var big []int
			for _, b := range bounds {
				if binary.BigEndian.Uint16(stream[b+3:]) > 16000 {
					big = append(big, b)
				}
			}
			log, st, _ := analyse(t, dropServerBytes(t, s, big[1]+8000), keyLogOf(t, s.keyLog()))
			reqs, resps := byDirection(log)
			if reqs != "GET /a|GET /a|GET /a|GET /b" || resps != "401|401|200 (incomplete)|200" {
				t.Errorf("requests %s, responses %s", reqs, resps)
			}
			info := log.closed[0].TLS
			if st.Gaps != 1 || info.LostRecords[ServerToClient] != 1 || info.Stopped != [2]bool{} || st.TLSDecrypted != 1 {
				t.Errorf("stats %+v info %+v", st, info)
			}
		})
	}
}

// TestTLSGapAcrossHeader: a gap that swallows a record header loses the
// framing: the direction stops decrypting, counted; the other goes on.
func TestTLSGapAcrossHeader(t *testing.T) {
	s := synthNTLM(t, versionTLS12, 0xc02f)
	stream := s.stream(1)
	bounds := recordBounds(stream)
	var hdr int
	for _, b := range bounds {
		if binary.BigEndian.Uint16(stream[b+3:]) > 16000 {
			hdr = bounds[len(bounds)-3] // a later record's header
			break
		}
	}
	log, st, _ := analyse(t, dropServerBytes(t, s, hdr+2), keyLogOf(t, s.keyLog()))
	reqs, resps := byDirection(log)
	if reqs != "GET /a|GET /a|GET /a|GET /b" || resps != "401|401|200 (incomplete)" {
		t.Errorf("requests %s, responses %s", reqs, resps)
	}
	info := log.closed[0].TLS
	if !info.Stopped[ServerToClient] || info.Stopped[ClientToServer] || st.TLSStopped != 1 || st.TLSDecrypted != 1 {
		t.Errorf("stats %+v info %+v", st, info)
	}
}

// TestTLSTruncated: a capture that ends inside a record counts it.
func TestTLSTruncated(t *testing.T) {
	s := synthNTLM(t, versionTLS13, 0x1301)
	pkts := s.packets(1000)
	cut := pkts[:len(pkts)-12] // the end of the big response, the last exchange, the FINs
	b, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{}, cut)
	if err != nil {
		t.Fatal(err)
	}
	log, st, _ := analyse(t, b, keyLogOf(t, s.keyLog()))
	info := log.closed[0].TLS
	if info.TruncatedRecords != 1 || st.TLSDecrypted != 1 {
		t.Errorf("stats %+v info %+v", st, info)
	}
	if got, want := strings.Join(statuses(log), "|"), "GET /a|401|GET /a|401|GET /a|200 (incomplete)"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

// TestTLSMidStream: a capture that starts after the handshake has no
// client random: counted as TLS without a handshake.
func TestTLSMidStream(t *testing.T) {
	s := synthNTLM(t, versionTLS12, 0xc030)
	pkts := s.packets(1460)
	b, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{}, pkts[12:])
	if err != nil {
		t.Fatal(err)
	}
	log, st, _ := analyse(t, b, keyLogOf(t, s.keyLog()))
	if len(log.msgs) != 0 || st.TLSWithoutKeys != 1 || log.closed[0].TLS.Outcome != TLSNoHandshake {
		t.Errorf("%d messages, stats %+v, info %+v", len(log.msgs), st, log.closed[0].TLS)
	}
}

// TestTLSKeyLogArrivesLate: the key log gains the connection's secret
// after its first protected records were read (a browser writing
// SSLKEYLOGFILE while capture runs): the records after that decrypt.
func TestTLSKeyLogArrivesLate(t *testing.T) {
	s := synthNTLM(t, versionTLS12, 0xcca8)
	path, keys := growingKeyLog(t)
	src := srcOpenBytes(t, s.capture(1460))
	defer src.Close()
	log := &msgLog{}
	r := NewReassembler(log, Options{KeyLog: keys})
	for n := 0; ; n++ {
		p, err := src.Next()
		if err != nil {
			break
		}
		if n == 16 { // after the first exchange
			appendKeyLog(t, path, s.keyLog())
			if err := keys.Reload(); err != nil {
				t.Fatal(err)
			}
		}
		r.Packet(p)
	}
	r.Finish()
	// The Type 3 request went by before the secret arrived; the page it
	// got spans records that came after.
	if got, want := strings.Join(statuses(log), "|"), "200|GET /b|200"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
	if st := keys.Stats(); st.Secrets != 1 || st.Files != 1 {
		t.Errorf("key log stats %+v", st)
	}
}
