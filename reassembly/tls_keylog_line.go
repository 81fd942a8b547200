package reassembly

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// The NSS key log format: one secret per line.

// Key log labels (NSS key log format, as written by NSS, OpenSSL, BoringSSL,
// Go's crypto/tls and curl when SSLKEYLOGFILE is set). Each line is
//
//	<label> SP <client random, 64 hex digits> SP <secret, hex>
//
// where the client random is the one in the connection's ClientHello
// (RFC 8446 §4.1.2), which is how a capture's connection finds its line.
const (
	labelTLS12Master   = "CLIENT_RANDOM"                   // TLS 1.2 master secret (48 bytes)
	labelClientHS      = "CLIENT_HANDSHAKE_TRAFFIC_SECRET" // TLS 1.3 client_handshake_traffic_secret
	labelServerHS      = "SERVER_HANDSHAKE_TRAFFIC_SECRET" // TLS 1.3 server_handshake_traffic_secret
	labelClientTraffic = "CLIENT_TRAFFIC_SECRET_0"         // TLS 1.3 client_application_traffic_secret_0
	labelServerTraffic = "SERVER_TRAFFIC_SECRET_0"         // TLS 1.3 server_application_traffic_secret_0
)

// secretKind indexes the secrets kept per client random.
type secretKind uint8

const (
	secMaster secretKind = iota
	secClientHS
	secServerHS
	secClientTraffic
	secServerTraffic
	numSecretKinds
)

var labelKinds = map[string]secretKind{
	labelTLS12Master:   secMaster,
	labelClientHS:      secClientHS,
	labelServerHS:      secServerHS,
	labelClientTraffic: secClientTraffic,
	labelServerTraffic: secServerTraffic,
}

// secret is key material. Its printing methods redact it, so that no log
// line, error or report can carry it by accident.
type secret []byte

// String redacts the secret.
func (secret) String() string { return "[secret]" }

// GoString redacts the secret.
func (secret) GoString() string { return "[secret]" }

// MarshalJSON redacts the secret.
func (secret) MarshalJSON() ([]byte, error) { return []byte(`"[secret]"`), nil }

// sessionSecrets are the secrets a key log holds for one client random.
type sessionSecrets [numSecretKinds]secret

// maxKeyLogLine bounds a key log line: the longest valid one is about 230
// bytes; anything much longer is not a key log.
const maxKeyLogLine = 1024

// errIgnoredLabel marks a well-formed line whose label is not used.
var errIgnoredLabel = errors.New("label not used")

// parseKeyLogLine parses one key log line. Errors say what is wrong with
// it without quoting it: a line may hold a secret.
func parseKeyLogLine(line []byte) (secretKind, [32]byte, secret, error) {
	var cr [32]byte
	if len(line) > maxKeyLogLine {
		return 0, cr, nil, fmt.Errorf("line too long (%d bytes)", len(line))
	}
	fields := strings.Fields(string(line))
	if len(fields) != 3 {
		return 0, cr, nil, fmt.Errorf("%d fields, want 3 (label, client random, secret)", len(fields))
	}
	label := fields[0]
	for _, c := range label {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return 0, cr, nil, errors.New("label is not upper-case letters, digits and underscores")
		}
	}
	kind, known := labelKinds[label]
	if !known {
		// CLIENT_EARLY_TRAFFIC_SECRET (0-RTT data is not HTTP/1.1 NTLM
		// traffic), EXPORTER_SECRET (protects no records), RSA (a
		// pre-master secret: the handshake would have to be replayed;
		// its second field is 8 bytes), and labels of the future: unused,
		// not checked further.
		return 0, cr, nil, errIgnoredLabel
	}
	if len(fields[1]) != 64 {
		return 0, cr, nil, fmt.Errorf("client random is %d hex digits, want 64", len(fields[1]))
	}
	if _, err := hex.Decode(cr[:], []byte(fields[1])); err != nil {
		return 0, cr, nil, errors.New("client random is not hex")
	}
	sec, err := hex.DecodeString(fields[2])
	if err != nil {
		return 0, cr, nil, errors.New("secret is not hex")
	}
	switch {
	case kind == secMaster && len(sec) != 48:
		return 0, cr, nil, fmt.Errorf("%s secret is %d bytes, want 48", label, len(sec))
	case kind != secMaster && len(sec) != 32 && len(sec) != 48:
		return 0, cr, nil, fmt.Errorf("%s secret is %d bytes, want 32 or 48", label, len(sec))
	}
	return kind, cr, secret(sec), nil
}
