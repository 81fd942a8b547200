package reassembly

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

// Fuzz input for FuzzTLSRecords:
//
//	flags (1) | key log length (2) | key log | chunks
//	chunk = direction (1: bit 0 set = from the server) | length (2) | bytes
//
// flags bits 0-2 pick the segment size, bit 3 drops one data packet
// (bits 4-7 say which, counted from the end), so gaps are fuzzed too.
var fuzzMSS = [8]int{1460, 1, 7, 100, 536, 4000, 16384, 65000}

// encodeFuzzTLS encodes a synthetic connection as a fuzz input.
func encodeFuzzTLS(flags byte, keylog []byte, chunks []synthChunk) []byte {
	b := []byte{flags, byte(len(keylog) >> 8), byte(len(keylog))}
	b = append(b, keylog...)
	for _, c := range chunks {
		dir := byte(1)
		if c.toServer {
			dir = 0
		}
		for data := c.data; len(data) > 0; {
			n := min(len(data), 0xffff)
			b = append(b, dir, byte(n>>8), byte(n))
			b = append(b, data[:n]...)
			data = data[n:]
		}
	}
	return b
}

// fuzzSynth returns a small connection of version and suite: handshake,
// two NTLM legs, and for TLS 1.3 a KeyUpdate each way.
func fuzzSynth(t testing.TB, version, suite uint16) *tlsSynth {
	s := newSynth(t, version, suite, byte(suite)+1)
	s.handshake("http/1.1")
	s.ntlmRound("/a", "")
	if version == versionTLS13 {
		s.keyUpdate(0)
		s.keyUpdate(1)
	}
	s.ntlmRound("/a", "NTLM "+tlslab.Type1)
	s.data(1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	return s
}

// FuzzTLSRecords feeds fuzzed TLS conversations (records, handshake
// messages, key logs, segmentation and gaps) through the reassembler with
// decryption on. It checks that nothing panics and that the counts hold
// together.
func FuzzTLSRecords(f *testing.F) {
	for i, c := range synthSuites {
		s := fuzzSynth(f, c.version, c.suite)
		f.Add(encodeFuzzTLS(byte(i), s.keyLog(), s.chunks))
		f.Add(encodeFuzzTLS(byte(i)|0x08|0x30, s.keyLog(), s.chunks))
	}
	for _, c := range tlsTestdata {
		f.Add(encodeFuzzTLS(0, readTestdata(f, c.name+".keylog"), captureChunks(f, readTestdata(f, c.name+".pcapng"))))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// A hang becomes a crash, so the fuzzer keeps the input (run with
		// GOTRACEBACK=all to see where it hung).
		watchdog := time.AfterFunc(fuzzWatchdog, func() { panic("FuzzTLSRecords: an input ran for " + fuzzWatchdog.String()) })
		defer watchdog.Stop()
		log, st := runFuzzTLS(in)
		if log == nil {
			return
		}
		if len(log.closed) != 1 {
			t.Fatalf("%d connections closed", len(log.closed))
		}
		cn := log.closed[0]
		if info := cn.TLS; info != nil {
			for d := range info.Records {
				if info.DecryptedRecords[d]+info.FailedRecords[d]+info.LostRecords[d] > info.Records[d]+info.LostRecords[d] {
					t.Errorf("direction %d: %+v", d, info)
				}
			}
			if cn.Decrypted != (info.Outcome == TLSDecrypted) {
				t.Errorf("decrypted %v, outcome %v", cn.Decrypted, info.Outcome)
			}
		}
		if cn.Protocol == ProtoTLS && cn.Decrypted {
			t.Errorf("decrypted, yet ProtoTLS")
		}
		if st.TLSDecrypted+st.TLSWithoutKeys+st.TLSBadKeys+st.TLSUnsupported > 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// fuzzWatchdog bounds the time of one FuzzTLSRecords input.
const fuzzWatchdog = 10 * time.Second

// maxFuzzSegments bounds the segments one input makes: a large input cut
// into one-byte segments would spend the fuzzer's time (and memory) on
// building packets.
const maxFuzzSegments = 20000

// runFuzzTLS runs one FuzzTLSRecords input; nil when it is too short or
// too large.
func runFuzzTLS(in []byte) (*msgLog, StreamStats) {
	if len(in) < 3 || len(in)/fuzzMSS[in[0]&7] > maxFuzzSegments {
		return nil, StreamStats{}
	}
	flags := in[0]
	n := int(binary.BigEndian.Uint16(in[1:]))
	in = in[3:]
	if n > len(in) {
		return nil, StreamStats{}
	}
	keys := NewKeyLog()
	keys.AddEmbedded("fuzz", in[:n])
	in = in[n:]
	s := newScript()
	c := s.conv("10.0.0.1:50000", "10.0.0.2:443", 1000)
	c.handshake()
	for len(in) >= 3 {
		dir, l := in[0], int(binary.BigEndian.Uint16(in[1:]))
		in = in[3:]
		l = min(l, len(in))
		c.send(dir&1 == 0, string(in[:l]), fuzzMSS[flags&7])
		in = in[l:]
	}
	c.close()
	pkts := s.pkts
	if flags&0x08 != 0 && len(pkts) > 8 {
		drop := len(pkts) - 4 - int(flags>>4)%(len(pkts)-7)
		pkts = append(pkts[:drop:drop], pkts[drop+1:]...)
	}
	log := &msgLog{}
	r := NewReassembler(log, Options{KeyLog: keys})
	for i := range pkts {
		p := pkts[i]
		r.Packet(&p)
	}
	r.Finish()
	return log, r.Stats()
}

// TestFuzzTLSSeeds checks that FuzzTLSRecords' seeds decrypt, so that the
// fuzzer starts from records that reach the HTTP parser.
func TestFuzzTLSSeeds(t *testing.T) {
	for i, c := range synthSuites {
		s := fuzzSynth(t, c.version, c.suite)
		log, st := runFuzzTLS(encodeFuzzTLS(byte(i), s.keyLog(), s.chunks))
		if st.TLSDecrypted != 1 || len(log.msgs) != 5 {
			t.Errorf("%s: %d messages, stats %+v", c.name, len(log.msgs), st)
		}
	}
	for _, c := range tlsTestdata {
		log, st := runFuzzTLS(encodeFuzzTLS(0, readTestdata(t, c.name+".keylog"), captureChunks(t, readTestdata(t, c.name+".pcapng"))))
		if st.TLSDecrypted != 1 || len(log.msgs) != 8 {
			t.Errorf("%s: %d messages, stats %+v", c.name, len(log.msgs), st)
		}
	}
}

// captureChunks returns the payloads of a one-connection capture, in
// order, by direction.
func captureChunks(t testing.TB, capture []byte) []synthChunk {
	src := srcOpenBytes(t, capture)
	defer src.Close()
	var out []synthChunk
	var server uint16
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		if p.TCP.SYN && !p.TCP.ACK {
			server = uint16(p.TCP.DstPort)
		}
		if len(p.TCP.Payload) > 0 {
			out = append(out, synthChunk{toServer: uint16(p.TCP.DstPort) == server, data: append([]byte(nil), p.TCP.Payload...)})
		}
	}
	return out
}

// FuzzTLSHandshake fuzzes the handshake message reader and the parsers
// of the messages ntlmscope reads (hellos, EncryptedExtensions) and of key
// log lines.
func FuzzTLSHandshake(f *testing.F) {
	s := newSynth(f, versionTLS13, 0x1301, 1)
	f.Add(byte(hsClientHello), s.clientHello()[4:], uint8(3))
	f.Add(byte(hsServerHello), s.serverHello([]byte{0, 43, 0, 2, 3, 4})[4:], uint8(1))
	f.Add(byte(hsServerHello), s.serverHello(alpnExt("h2"))[4:], uint8(50))
	f.Add(byte(hsEncryptedExtensions), append([]byte{0, 9}, alpnExt("h2")...), uint8(2))
	f.Add(byte(0), []byte("CLIENT_RANDOM "+testRandom+" "+testMaster), uint8(0))
	f.Fuzz(func(t *testing.T, typ byte, body []byte, split uint8) {
		parseClientHello(body)
		parseServerHello(body)
		parseEncryptedExtensions(body)
		parseKeyLogLine(body)
		// The same bytes as a handshake stream, split anywhere.
		var h handshakeReader
		msgs := 0
		stream := append(hsMsg(typ, body), body...)
		cut := int(split) % (len(stream) + 1)
		fn := func(typ uint8, b []byte) {
			msgs++
			if len(b) > maxHandshakeMessage {
				t.Fatalf("message of %d bytes kept", len(b))
			}
		}
		h.feed(stream[:cut], fn)
		h.feed(stream[cut:], fn)
		if wantHandshake(typ) && len(body) <= maxHandshakeMessage && msgs == 0 {
			t.Fatalf("message of type %d not read", typ)
		}
	})
}
