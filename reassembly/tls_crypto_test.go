package reassembly

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeys13RFC8448 derives the handshake traffic keys of RFC 8448 §3
// (Simple 1-RTT Handshake) from its server handshake traffic secret.
func TestKeys13RFC8448(t *testing.T) {
	sec := hexBytes(t, "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38")
	key, err := expandLabel(crypto.SHA256, sec, "key", nil, 16)
	if err != nil {
		t.Fatal(err)
	}
	iv, _ := expandLabel(crypto.SHA256, sec, "iv", nil, 12)
	if want := hexBytes(t, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc"); !bytes.Equal(key, want) {
		t.Errorf("key %x, want %x", key, want)
	}
	if want := hexBytes(t, "5d 31 3e b2 67 12 76 ee 13 00 0b 30"); !bytes.Equal(iv, want) {
		t.Errorf("iv %x, want %x", iv, want)
	}
}

// TestPRF12 checks the TLS 1.2 PRF against the P_SHA256 test vector
// published for TLS 1.2 implementers (IETF TLS WG, 2009).
func TestPRF12(t *testing.T) {
	secret := hexBytes(t, "9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35")
	seed := hexBytes(t, "a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c")
	want := hexBytes(t, "e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a"+
		"6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab"+
		"4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01"+
		"87 34 7b 66")
	if got := prf12(crypto.SHA256, secret, "test label", seed, len(want)); !bytes.Equal(got, want) {
		t.Errorf("PRF\n got %x\nwant %x", got, want)
	}
}

// TestTLSALPNHTTP2: a server selecting h2 makes the connection HTTP/2,
// counted and not parsed, in TLS 1.2 (ALPN in the ServerHello) and 1.3
// (in the encrypted EncryptedExtensions).
func TestTLSALPNHTTP2(t *testing.T) {
	for _, c := range []tlsCase{tlsCases[0], tlsCases[3]} {
		t.Run(c.name, func(t *testing.T) {
			cert, err := tlslab.Certificate(c.key)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := tlslab.Start(tlslab.Options{Addr: labHost() + ":0", HTTP2: true,
				TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: c.version, MaxVersion: c.version}})
			if err != nil {
				t.Fatal(err)
			}
			var kl bytes.Buffer
			conn, err := tls.Dial("tcp", srv.Addr.String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"},
				MinVersion: c.version, MaxVersion: c.version, KeyLogWriter: &kl})
			if err != nil {
				srv.Close()
				t.Fatal(err)
			}
			if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
				t.Errorf("negotiated %q", p)
			}
			conn.Write([]byte(h2Preface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
			conn.SetReadDeadline(time.Now().Add(time.Second))
			conn.Read(make([]byte, 100))
			conn.Close()
			srv.Close()
			log, st, _ := analyse(t, recordedCapture(t, srv.Recordings()[0], true), keyLogOf(t, kl.Bytes()))
			cn := log.closed[0]
			if st.HTTP2 != 1 || cn.Protocol != ProtoHTTP2 || cn.Decrypted || cn.TLS.ALPN != "h2" || cn.TLS.Outcome != TLSHTTP2 {
				t.Errorf("stats %+v conn %+v tls %+v", st, cn, cn.TLS)
			}
		})
	}
}
