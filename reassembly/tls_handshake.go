package reassembly

import (
	"bytes"
	"crypto/sha256"
	"errors"

	"golang.org/x/crypto/cryptobyte"
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	hsClientHello         uint8 = 1
	hsServerHello         uint8 = 2
	hsEncryptedExtensions uint8 = 8
	hsFinished            uint8 = 20
	hsKeyUpdate           uint8 = 24
)

// Extension types (IANA TLS ExtensionType registry).
const (
	extServerName        uint16 = 0
	extALPN              uint16 = 16
	extSupportedVersions uint16 = 43
)

// maxHandshakeMessage bounds a handshake message kept for parsing. Only
// the hellos, EncryptedExtensions, Finished and KeyUpdate are kept (a
// ClientHello with a post-quantum key share is under 2 KiB); certificates
// and tickets are skipped, never buffered.
const maxHandshakeMessage = 64 << 10

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest
// (RFC 8446 §4.1.3): SHA-256("HelloRetryRequest").
var helloRetryRandom = sha256.Sum256([]byte("HelloRetryRequest"))

// handshakeReader reassembles the handshake messages of one direction from
// the handshake records' contents, which may split a message across
// records or carry several in one (RFC 8446 §5.1). Each message is
//
//	struct {
//	    HandshakeType msg_type;  // 1 byte
//	    uint24 length;
//	    opaque body[length];
//	} Handshake;                 // RFC 8446 §4, RFC 5246 §7.4
type handshakeReader struct {
	buf  []byte // a partial message, header included
	skip int    // body bytes of an uninteresting message still to skip
}

// wantHandshake says which messages are kept: the others are skipped.
func wantHandshake(typ uint8) bool {
	switch typ {
	case hsClientHello, hsServerHello, hsEncryptedExtensions, hsFinished, hsKeyUpdate:
		return true
	}
	return false
}

// feed reads handshake bytes and hands each complete message wanted to fn.
// A wanted message longer than maxHandshakeMessage is skipped like the
// others: no real one is that long.
func (h *handshakeReader) feed(data []byte, fn func(typ uint8, body []byte)) {
	for len(data) > 0 {
		if h.skip > 0 {
			n := min(h.skip, len(data))
			h.skip -= n
			data = data[n:]
			continue
		}
		if len(h.buf) < 4 {
			n := min(4-len(h.buf), len(data))
			h.buf = append(h.buf, data[:n]...)
			data = data[n:]
			if len(h.buf) < 4 {
				return
			}
			typ := h.buf[0]
			length := int(h.buf[1])<<16 | int(h.buf[2])<<8 | int(h.buf[3])
			if !wantHandshake(typ) || length > maxHandshakeMessage {
				h.buf, h.skip = h.buf[:0], length
				continue
			}
		}
		length := int(h.buf[1])<<16 | int(h.buf[2])<<8 | int(h.buf[3])
		n := min(4+length-len(h.buf), len(data))
		h.buf = append(h.buf, data[:n]...)
		data = data[n:]
		if len(h.buf) == 4+length {
			fn(h.buf[0], h.buf[4:])
			h.buf = nil // the few messages read are not worth a kept buffer
		}
	}
}

// reset forgets a partial message (after lost bytes).
func (h *handshakeReader) reset() {
	h.buf, h.skip = h.buf[:0], 0
}

// helloInfo is what ntlmscope reads of a ClientHello or ServerHello.
type helloInfo struct {
	random     [32]byte
	suite      uint16 // ServerHello: the selected cipher suite
	version    uint16 // ServerHello: supported_versions, or legacy_version
	alpn       string // ServerHello (TLS 1.2): the selected protocol
	serverName string // ClientHello: the server_name (SNI)
	retry      bool   // ServerHello: a HelloRetryRequest
}

// errHello is a hello message that does not parse.
var errHello = errors.New("malformed hello message")

// parseClientHello reads a ClientHello body (RFC 8446 §4.1.2, RFC 5246
// §7.4.1.2):
//
//	ProtocolVersion legacy_version;
//	Random random;                              // 32 bytes
//	opaque legacy_session_id<0..32>;
//	CipherSuite cipher_suites<2..2^16-2>;
//	opaque legacy_compression_methods<1..2^8-1>;
//	Extension extensions<8..2^16-1>;            // optional before TLS 1.3
func parseClientHello(body []byte) (helloInfo, error) {
	var h helloInfo
	s := cryptobyte.String(body)
	var sid, suites, comp, exts cryptobyte.String
	if !s.Skip(2) || !s.CopyBytes(h.random[:]) ||
		!s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16LengthPrefixed(&suites) ||
		!s.ReadUint8LengthPrefixed(&comp) {
		return h, errHello
	}
	if s.Empty() {
		return h, nil
	}
	if !s.ReadUint16LengthPrefixed(&exts) {
		return h, errHello
	}
	err := eachExtension(exts, func(typ uint16, data cryptobyte.String) bool {
		if typ != extServerName {
			return true
		}
		// RFC 6066 §3: ServerName server_name_list<1..2^16-1>, each a
		// NameType (0 = host_name) and a HostName<1..2^16-1>.
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return false
		}
		for !list.Empty() {
			var typ uint8
			var name cryptobyte.String
			if !list.ReadUint8(&typ) || !list.ReadUint16LengthPrefixed(&name) {
				return false
			}
			if typ == 0 && h.serverName == "" {
				h.serverName = string(name)
			}
		}
		return true
	})
	return h, err
}

// parseServerHello reads a ServerHello body (RFC 8446 §4.1.3, RFC 5246
// §7.4.1.3):
//
//	ProtocolVersion legacy_version;
//	Random random;
//	opaque legacy_session_id_echo<0..32>;
//	CipherSuite cipher_suite;
//	uint8 legacy_compression_method;
//	Extension extensions<6..2^16-1>;            // optional before TLS 1.3
//
// A TLS 1.3 server says its version in supported_versions (§4.2.1); the
// selected ALPN protocol (RFC 7301 §3.1) is here in TLS 1.2 and in
// EncryptedExtensions in TLS 1.3.
func parseServerHello(body []byte) (helloInfo, error) {
	var h helloInfo
	s := cryptobyte.String(body)
	var sid, exts cryptobyte.String
	var comp uint8
	if !s.ReadUint16(&h.version) || !s.CopyBytes(h.random[:]) ||
		!s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16(&h.suite) || !s.ReadUint8(&comp) {
		return h, errHello
	}
	h.retry = bytes.Equal(h.random[:], helloRetryRandom[:])
	if s.Empty() {
		return h, nil
	}
	if !s.ReadUint16LengthPrefixed(&exts) {
		return h, errHello
	}
	err := eachExtension(exts, func(typ uint16, data cryptobyte.String) bool {
		switch typ {
		case extSupportedVersions:
			return data.ReadUint16(&h.version)
		case extALPN:
			h.alpn, _ = parseALPN(data)
		}
		return true
	})
	return h, err
}

// parseEncryptedExtensions reads the ALPN protocol from a TLS 1.3
// EncryptedExtensions body (RFC 8446 §4.3.1):
//
//	Extension extensions<0..2^16-1>;
func parseEncryptedExtensions(body []byte) (alpn string, err error) {
	s := cryptobyte.String(body)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return "", errHello
	}
	err = eachExtension(exts, func(typ uint16, data cryptobyte.String) bool {
		if typ == extALPN {
			alpn, _ = parseALPN(data)
		}
		return true
	})
	return alpn, err
}

// parseALPN reads the one protocol a server selects (RFC 7301 §3.1):
//
//	ProtocolName protocol_name_list<2..2^16-1>;  // exactly one, from a server
//	opaque ProtocolName<1..2^8-1>;
func parseALPN(data cryptobyte.String) (string, bool) {
	var list, name cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&name) {
		return "", false
	}
	return string(name), true
}

// eachExtension calls fn for each extension of a list (RFC 8446 §4.2):
//
//	struct {
//	    ExtensionType extension_type;   // uint16
//	    opaque extension_data<0..2^16-1>;
//	} Extension;
//
// fn returns false when the extension's data is malformed.
func eachExtension(exts cryptobyte.String, fn func(typ uint16, data cryptobyte.String) bool) error {
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return errHello
		}
		if !fn(typ, data) {
			return errHello
		}
	}
	return nil
}
