package reassembly

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/capwriter"
)

// tlsSynth builds the byte streams of a TLS connection record by record,
// with secrets derived from a seed, for tests that need exact control over
// what is sent: KeyUpdate, wrong secrets, odd framing, fuzz seeds. It
// encrypts with the package's own key schedule; TestTLSDecryptRecorded and
// the tcpdump tests check that schedule against real peers.
type tlsSynth struct {
	t       testing.TB
	version uint16
	suite   *cipherSuite
	cr, sr  [32]byte
	master  secret
	secrets sessionSecrets
	keys    [2]*recordKeys // by role (0 client, 1 server)
	seq     [2]uint64
	chunks  []synthChunk
}

type synthChunk struct {
	toServer bool
	data     []byte
}

// newSynth starts a connection of version and suite; seed varies the
// randoms and secrets.
func newSynth(t testing.TB, version, suite uint16, seed byte) *tlsSynth {
	s := &tlsSynth{t: t, version: version, suite: cipherSuites[suite]}
	if s.suite == nil {
		t.Fatalf("suite %#x unknown", suite)
	}
	gen := func(label string, n int) []byte {
		var out []byte
		for i := 0; len(out) < n; i++ {
			h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", label, seed, i)))
			out = append(out, h[:]...)
		}
		return out[:n]
	}
	copy(s.cr[:], gen("client random", 32))
	copy(s.sr[:], gen("server random", 32))
	s.master = gen("master", 48)
	n := s.suite.hash.Size()
	for k := secClientHS; k < numSecretKinds; k++ {
		s.secrets[k] = gen(fmt.Sprint("secret", k), n)
	}
	return s
}

// keyLog returns the connection's key log lines.
func (s *tlsSynth) keyLog() []byte {
	var b bytes.Buffer
	cr := hex.EncodeToString(s.cr[:])
	if s.version == versionTLS12 {
		fmt.Fprintf(&b, "CLIENT_RANDOM %s %x\n", cr, []byte(s.master))
		return b.Bytes()
	}
	for _, l := range []struct {
		label string
		k     secretKind
	}{{labelClientHS, secClientHS}, {labelServerHS, secServerHS}, {labelClientTraffic, secClientTraffic}, {labelServerTraffic, secServerTraffic}} {
		fmt.Fprintf(&b, "%s %s %x\n", l.label, cr, []byte(s.secrets[l.k]))
	}
	return b.Bytes()
}

func (s *tlsSynth) send(role int, b []byte) {
	s.chunks = append(s.chunks, synthChunk{toServer: role == 0, data: b})
}

// record returns an unprotected record.
func record(typ uint8, body []byte) []byte {
	r := []byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}
	return append(r, body...)
}

// hsMsg returns a handshake message.
func hsMsg(typ uint8, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

// seal protects content of type typ as the next record of role.
func (s *tlsSynth) seal(role int, typ uint8, content []byte) []byte {
	k, seq := s.keys[role], s.seq[role]
	s.seq[role]++
	var nonce [12]byte
	var sn [8]byte
	binary.BigEndian.PutUint64(sn[:], seq)
	if k.tls13 {
		inner := append(append([]byte(nil), content...), typ)
		hdr := []byte{ctApplicationData, 3, 3, 0, 0}
		binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+aeadTagLen))
		nonce = k.iv
		for i := range sn {
			nonce[4+i] ^= sn[i]
		}
		return k.aead.Seal(hdr, nonce[:], inner, hdr)
	}
	aad := append(append(sn[:], typ, 3, 3), byte(len(content)>>8), byte(len(content)))
	var out []byte
	if k.explicit {
		copy(nonce[:4], k.iv[:4])
		copy(nonce[4:], sn[:])
		out = append(out, sn[:]...)
	} else {
		nonce = k.iv
		for i := range sn {
			nonce[4+i] ^= sn[i]
		}
	}
	out = k.aead.Seal(out, nonce[:], content, aad)
	return record(typ, out)
}

func (s *tlsSynth) setKeys13(role int, k secretKind) {
	keys, err := keys13(s.suite, s.secrets[k])
	if err != nil {
		s.t.Fatal(err)
	}
	s.keys[role], s.seq[role] = keys, 0
}

// clientHello returns a ClientHello naming intranet.lab.test.
func (s *tlsSynth) clientHello() []byte {
	body := []byte{3, 3}
	body = append(body, s.cr[:]...)
	body = append(body, 0, 0, 2, byte(s.suite.id>>8), byte(s.suite.id), 1, 0)
	name := "intranet.lab.test"
	entry := append([]byte{0, byte(len(name) >> 8), byte(len(name))}, name...) // host_name
	list := append([]byte{byte(len(entry) >> 8), byte(len(entry))}, entry...)
	sni := append([]byte{0, 0, byte(len(list) >> 8), byte(len(list))}, list...) // server_name
	body = append(body, byte(len(sni)>>8), byte(len(sni)))
	return hsMsg(hsClientHello, append(body, sni...))
}

// serverHello returns a ServerHello with extensions exts.
func (s *tlsSynth) serverHello(exts []byte) []byte {
	body := []byte{3, 3}
	body = append(body, s.sr[:]...)
	body = append(body, 0, byte(s.suite.id>>8), byte(s.suite.id), 0, byte(len(exts)>>8), byte(len(exts)))
	return hsMsg(hsServerHello, append(body, exts...))
}

// alpnExt returns an ALPN extension selecting proto.
func alpnExt(proto string) []byte {
	return append([]byte{0, 16, 0, byte(len(proto) + 3), 0, byte(len(proto) + 1), byte(len(proto))}, proto...)
}

// handshake runs the full handshake, with the server selecting alpn.
func (s *tlsSynth) handshake(alpn string) {
	s.send(0, record(ctHandshake, s.clientHello()))
	if s.version == versionTLS13 {
		s.send(1, record(ctHandshake, s.serverHello([]byte{0, 43, 0, 2, 3, 4})))
		s.send(1, record(ctChangeCipherSpec, []byte{1}))
		s.setKeys13(1, secServerHS)
		var ee []byte
		if alpn != "" {
			ee = alpnExt(alpn)
		}
		ee = append([]byte{byte(len(ee) >> 8), byte(len(ee))}, ee...)
		flight := append(hsMsg(hsEncryptedExtensions, ee), hsMsg(11, bytes.Repeat([]byte{0xce}, 900))...)
		flight = append(flight, hsMsg(15, bytes.Repeat([]byte{0xcf}, 260))...)
		s.send(1, s.seal(1, ctHandshake, flight))
		s.send(1, s.seal(1, ctHandshake, hsMsg(hsFinished, make([]byte, 32))))
		s.setKeys13(1, secServerTraffic)
		s.send(0, record(ctChangeCipherSpec, []byte{1}))
		s.setKeys13(0, secClientHS)
		s.send(0, s.seal(0, ctHandshake, hsMsg(hsFinished, make([]byte, 32))))
		s.setKeys13(0, secClientTraffic)
		s.send(1, s.seal(1, ctHandshake, hsMsg(4, bytes.Repeat([]byte{0x7e}, 200)))) // NewSessionTicket
		return
	}
	var exts []byte
	if alpn != "" {
		exts = alpnExt(alpn)
	}
	flight := append(s.serverHello(exts), hsMsg(11, bytes.Repeat([]byte{0xce}, 900))...)
	s.send(1, record(ctHandshake, append(flight, hsMsg(14, nil)...)))
	s.send(0, record(ctHandshake, hsMsg(16, bytes.Repeat([]byte{0x16}, 66))))
	keys, err := keys12(s.suite, s.master, s.cr[:], s.sr[:])
	if err != nil {
		s.t.Fatal(err)
	}
	s.send(0, record(ctChangeCipherSpec, []byte{1}))
	s.keys[0] = keys[0]
	s.send(0, s.seal(0, ctHandshake, hsMsg(hsFinished, make([]byte, 12))))
	s.send(1, record(ctChangeCipherSpec, []byte{1}))
	s.keys[1] = keys[1]
	s.send(1, s.seal(1, ctHandshake, hsMsg(hsFinished, make([]byte, 12))))
}

// data sends application data from role in records of at most 16 KiB.
func (s *tlsSynth) data(role int, b string) {
	for len(b) > 0 {
		n := min(len(b), 1<<14)
		s.send(role, s.seal(role, ctApplicationData, []byte(b[:n])))
		b = b[n:]
	}
}

// keyUpdate sends a TLS 1.3 KeyUpdate from role and switches its keys.
func (s *tlsSynth) keyUpdate(role int) {
	s.send(role, s.seal(role, ctHandshake, hsMsg(hsKeyUpdate, []byte{0})))
	next, err := updateKeys13(s.keys[role])
	if err != nil {
		s.t.Fatal(err)
	}
	s.keys[role], s.seq[role] = next, 0
}

// packets returns the conversation as TCP segments of at most mss bytes,
// each chunk starting a new segment.
func (s *tlsSynth) packets(mss int) capwriter.Packets {
	c := capwriter.NewConversation(netip.MustParseAddrPort("10.1.1.10:50123"), netip.MustParseAddrPort("10.1.1.20:443"))
	c.MSS = mss
	c.Handshake()
	for _, ch := range s.chunks {
		d := capwriter.ToClient
		if ch.toServer {
			d = capwriter.ToServer
		}
		c.Send(d, ch.data)
	}
	c.Close()
	return c.Packets()
}

// capture returns the conversation as a pcapng capture.
func (s *tlsSynth) capture(mss int) []byte {
	b, err := capwriter.Bytes(capwriter.PCAPNG, capwriter.Encap{Link: capwriter.Ethernet}, s.packets(mss))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// stream returns everything role sent, concatenated.
func (s *tlsSynth) stream(role int) []byte {
	var b []byte
	for _, ch := range s.chunks {
		if ch.toServer == (role == 0) {
			b = append(b, ch.data...)
		}
	}
	return b
}

// ntlmRound sends one NTLM-looking round trip: request, 401.
func (s *tlsSynth) ntlmRound(target, auth string) {
	req := "GET " + target + " HTTP/1.1\r\nHost: intranet.lab.test\r\n"
	if auth != "" {
		req += "Authorization: " + auth + "\r\n"
	}
	s.data(0, req+"\r\n")
	s.data(1, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n")
}
