package reassembly

import "fmt"

// TLSOutcome says whether a TLS connection could be decrypted, and if not,
// why.
type TLSOutcome uint8

// Outcomes of decrypting a TLS connection.
const (
	// TLSNoKeys: no key source held a secret for the connection's client
	// random.
	TLSNoKeys TLSOutcome = iota
	// TLSDecrypted: records were decrypted; the connection's messages are
	// the plaintext's.
	TLSDecrypted
	// TLSNoHandshake: the capture holds no ClientHello (it started after
	// the handshake), so no secret can be found for the connection.
	TLSNoHandshake
	// TLSBadKeys: a secret was found but the records failed to decrypt
	// with it (a key log of other connections, or damaged records).
	TLSBadKeys
	// TLSUnsupported: the connection uses a protocol version or cipher
	// suite ntlmscope does not decrypt (before TLS 1.2, CBC, CCM).
	TLSUnsupported
	// TLSHTTP2: the server selected HTTP/2 (ALPN h2), which ntlmscope
	// counts but does not parse: the records were not decrypted.
	TLSHTTP2
)

var tlsOutcomeNames = [...]string{"no_keys", "decrypted", "no_handshake", "bad_keys", "unsupported", "http2"}

// String returns the outcome's short name.
func (o TLSOutcome) String() string {
	if int(o) < len(tlsOutcomeNames) {
		return tlsOutcomeNames[o]
	}
	return "UNKNOWN_TLS_OUTCOME"
}

// TLSInfo describes the TLS layer of a connection that was routed through
// the decryptor (a key source existed when it started). It never holds
// secrets or plaintext.
type TLSInfo struct {
	// Version is the negotiated version (0x0303 TLS 1.2, 0x0304 TLS 1.3)
	// and CipherSuite the selected suite (IANA value); both zero when no
	// ServerHello was seen.
	Version, CipherSuite uint16
	// ServerName is the ClientHello's server_name (SNI), or empty.
	ServerName string
	// ALPN is the application protocol the server selected, or empty.
	ALPN string
	// Outcome is final when the connection closes; until then it says
	// TLSDecrypted as soon as one record decrypted.
	Outcome TLSOutcome
	// Records counts protected records per Direction; DecryptedRecords
	// those decrypted; FailedRecords those that failed authentication;
	// LostRecords those not decrypted for want of a key or after a gap.
	Records, DecryptedRecords, FailedRecords, LostRecords [2]int
	// Stopped says, per Direction, that decryption stopped before the
	// stream ended: a gap lost the record framing or the sequence numbers,
	// or a record failed to decrypt.
	Stopped [2]bool
	// TruncatedRecords counts records cut off by the end of the stream.
	TruncatedRecords int
}

// TLSWarnings returns notes for the user, one line each, on TLS
// decryption: bad key log lines and unreadable files (of keys, which may be
// nil), secrets that did not decrypt, suites not supported, decryption cut
// short, and connections no secret matched. Secrets embedded in captures
// are warned about in SourceStats.Warnings instead.
func TLSWarnings(st StreamStats, keys *KeyLog) []string {
	var out []string
	if keys != nil {
		ks := keys.Stats()
		out = append(out, ks.Warnings...)
		if ks.BadLines > maxKeyLogWarnings {
			out = append(out, fmt.Sprintf("key logs: %d lines in all were not key log lines and were skipped", ks.BadLines))
		}
	}
	if st.TLSBadKeys > 0 {
		out = append(out, fmt.Sprintf("%d TLS connection(s) had a secret in the key log that failed to decrypt them "+
			"(%d record(s) failed): the key log may belong to other connections, or the records were damaged", st.TLSBadKeys, st.TLSFailedRecords))
	}
	if st.TLSUnsupported > 0 {
		out = append(out, fmt.Sprintf("%d TLS connection(s) use a version or cipher suite ntlmscope does not decrypt "+
			"(TLS before 1.2, CBC or CCM suites)", st.TLSUnsupported))
	}
	if st.TLSStopped > 0 {
		out = append(out, fmt.Sprintf("decryption stopped early in %d TLS stream direction(s): bytes the capture lost, "+
			"or a record that failed to decrypt; the messages after that point are missing", st.TLSStopped))
	}
	if st.TLSWithoutKeys > 0 {
		out = append(out, fmt.Sprintf("%d TLS connection(s) had no secret in the key logs (or their handshake was not captured): "+
			"not decrypted", st.TLSWithoutKeys))
	}
	return out
}
