package reassembly

import (
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

// TestTLSDecryptRecorded runs real crypto/tls peers over loopback TCP,
// records the bytes on the wire and inside TLS, writes both as captures,
// and checks that decrypting the wire capture with the client's key log
// yields the very messages the plaintext capture holds.
func TestTLSDecryptRecorded(t *testing.T) {
	for _, c := range tlsCases {
		t.Run(c.name, func(t *testing.T) {
			s := runLab(t, labHost(), c, tlslab.NTLMExchanges(40000, 30000))
			recs := s.srv.Recordings()
			if len(recs) != 1 {
				t.Fatalf("%d connections, want 1", len(recs))
			}
			plain, _, _ := analyse(t, recordedCapture(t, recs[0], false), nil)
			if len(plain.msgs) != 8 {
				t.Fatalf("plaintext capture: %d messages, want 8: %q", len(plain.msgs), plain.msgs)
			}
			got, st, _ := analyse(t, recordedCapture(t, recs[0], true), keyLogOf(t, s.keylog))
			sameMessages(t, got.msgs, plain.msgs)
			if len(got.closed) != 1 {
				t.Fatalf("%d connections closed, want 1", len(got.closed))
			}
			cn := got.closed[0]
			if !cn.Decrypted || cn.Protocol != ProtoHTTP1 || cn.TLS == nil || cn.TLS.Outcome != TLSDecrypted {
				t.Errorf("conn: decrypted=%v protocol=%v tls=%+v", cn.Decrypted, cn.Protocol, cn.TLS)
			}
			if st.TLSDecrypted != 1 || st.TLSWithoutKeys != 0 || st.TLSFailedRecords != 0 || st.TLS != 0 {
				t.Errorf("stats = %+v", st)
			}

			// A key log of other connections: counted, not decrypted.
			none, st, _ := analyse(t, recordedCapture(t, recs[0], true), keyLogOf(t, []byte(otherKeyLog)))
			if len(none.msgs) != 0 || st.TLS != 1 || st.TLSWithoutKeys != 1 || none.closed[0].Decrypted ||
				none.closed[0].TLS == nil || none.closed[0].TLS.Outcome != TLSNoKeys {
				t.Errorf("no keys: %d messages, stats %+v", len(none.msgs), st)
			}
		})
	}
}

// otherKeyLog holds secrets of connections no test capture has.
const otherKeyLog = "CLIENT_RANDOM " + "aa00000000000000000000000000000000000000000000000000000000000000" + " " +
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
