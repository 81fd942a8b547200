package reassembly

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	// The suites' hashes are looked up as crypto.SHA256 and crypto.SHA384,
	// which are available only when their packages are linked in: a binary
	// without crypto/tls elsewhere would otherwise panic on a SHA-384 suite.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// aeadKind is the record protection algorithm of a cipher suite.
type aeadKind uint8

const (
	aeadAESGCM aeadKind = iota + 1
	aeadChaCha20Poly1305
)

// cipherSuite is what decryption needs to know of a suite: its AEAD, key
// length, and the hash of its PRF (TLS 1.2) or key schedule (TLS 1.3).
type cipherSuite struct {
	id     uint16
	aead   aeadKind
	keyLen int
	hash   crypto.Hash
	tls13  bool
}

// cipherSuites are the suites ntlmscope decrypts: the AEAD suites browsers
// and curl negotiate (IANA TLS Cipher Suites registry). CBC, CCM and
// export suites, and TLS before 1.2, are recognised by their absence and
// counted as unsupported.
var cipherSuites = map[uint16]*cipherSuite{
	// TLS 1.2, RFC 5288 (GCM with RSA and DHE key exchange), RFC 5289
	// (ECDHE), RFC 7905 (ChaCha20-Poly1305).
	0x009c: {0x009c, aeadAESGCM, 16, crypto.SHA256, false},           // TLS_RSA_WITH_AES_128_GCM_SHA256
	0x009d: {0x009d, aeadAESGCM, 32, crypto.SHA384, false},           // TLS_RSA_WITH_AES_256_GCM_SHA384
	0x009e: {0x009e, aeadAESGCM, 16, crypto.SHA256, false},           // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
	0x009f: {0x009f, aeadAESGCM, 32, crypto.SHA384, false},           // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
	0xc02b: {0xc02b, aeadAESGCM, 16, crypto.SHA256, false},           // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	0xc02c: {0xc02c, aeadAESGCM, 32, crypto.SHA384, false},           // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	0xc02f: {0xc02f, aeadAESGCM, 16, crypto.SHA256, false},           // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	0xc030: {0xc030, aeadAESGCM, 32, crypto.SHA384, false},           // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
	0xcca8: {0xcca8, aeadChaCha20Poly1305, 32, crypto.SHA256, false}, // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	0xcca9: {0xcca9, aeadChaCha20Poly1305, 32, crypto.SHA256, false}, // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	0xccaa: {0xccaa, aeadChaCha20Poly1305, 32, crypto.SHA256, false}, // TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	// TLS 1.3, RFC 8446 §B.4.
	0x1301: {0x1301, aeadAESGCM, 16, crypto.SHA256, true},           // TLS_AES_128_GCM_SHA256
	0x1302: {0x1302, aeadAESGCM, 32, crypto.SHA384, true},           // TLS_AES_256_GCM_SHA384
	0x1303: {0x1303, aeadChaCha20Poly1305, 32, crypto.SHA256, true}, // TLS_CHACHA20_POLY1305_SHA256
}

// TLS protocol versions (RFC 8446 §4.2.1 supported_versions values).
const (
	versionTLS12 uint16 = 0x0303
	versionTLS13 uint16 = 0x0304
)

// aeadTagLen is the authentication tag of every supported AEAD.
const aeadTagLen = 16

// newAEAD returns the AEAD of kind keyed with key.
func newAEAD(kind aeadKind, key []byte) (cipher.AEAD, error) {
	switch kind {
	case aeadAESGCM:
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(block)
	case aeadChaCha20Poly1305:
		return chacha20poly1305.New(key)
	}
	return nil, fmt.Errorf("unknown AEAD %d", kind)
}

// errDecrypt is a record that failed authentication: a wrong secret, a
// wrong sequence number, or damaged bytes.
var errDecrypt = errors.New("record failed to decrypt")

// recordKeys protect one direction's records in one epoch.
type recordKeys struct {
	aead cipher.AEAD
	// iv is the TLS 1.3 per-record IV, the TLS 1.2 ChaCha20 IV (both
	// 12 bytes, XORed with the sequence number), or the TLS 1.2 GCM salt
	// (4 bytes, followed by the record's explicit nonce).
	iv       [12]byte
	explicit bool // TLS 1.2 GCM: an 8-byte explicit nonce opens each record
	tls13    bool
	// secret is the TLS 1.3 traffic secret, for KeyUpdate.
	secret secret
	suite  *cipherSuite

	nonce [12]byte
	aad   [13]byte
}

// open decrypts one protected record, the seq-th of its epoch (RFC 8446
// §5.3, RFC 5246 §6.1: counted from 0 at each key change), into dst[:0]
// and returns the plaintext and its content type. hdr is the record's
// 5-byte header and body its fragment.
//
// TLS 1.2 (RFC 5246 §6.2.3.3, RFC 5288 §3, RFC 7905 §2):
//
//	GCM:      fragment = explicit_nonce[8] || ciphertext || tag[16]
//	          nonce = salt[4] || explicit_nonce
//	ChaCha20: fragment = ciphertext || tag[16]
//	          nonce = iv[12] XOR (0[4] || seq_num[8])
//	additional_data = seq_num[8] || type[1] || version[2] || length[2]
//	(length of the plaintext)
//
// TLS 1.3 (RFC 8446 §5.2, §5.3): fragment = ciphertext || tag[16],
// nonce = iv XOR padded seq_num, additional_data = the record header, and
// the plaintext is TLSInnerPlaintext:
//
//	content || ContentType type[1] || zeros[padding]
func (k *recordKeys) open(dst []byte, seq uint64, hdr, body []byte) (plain []byte, typ uint8, err error) {
	typ = hdr[0]
	if k.explicit {
		if len(body) < 8+aeadTagLen {
			return nil, 0, errDecrypt
		}
		copy(k.nonce[:4], k.iv[:4])
		copy(k.nonce[4:], body[:8])
		body = body[8:]
	} else {
		if len(body) < aeadTagLen {
			return nil, 0, errDecrypt
		}
		k.nonce = k.iv
		var sn [8]byte
		binary.BigEndian.PutUint64(sn[:], seq)
		for i := range sn {
			k.nonce[4+i] ^= sn[i]
		}
	}
	var aad []byte
	if k.tls13 {
		aad = hdr
	} else {
		binary.BigEndian.PutUint64(k.aad[:8], seq)
		copy(k.aad[8:11], hdr[:3])
		binary.BigEndian.PutUint16(k.aad[11:], uint16(len(body)-aeadTagLen))
		aad = k.aad[:]
	}
	plain, err = k.aead.Open(dst[:0], k.nonce[:], body, aad)
	if err != nil {
		return nil, 0, errDecrypt
	}
	if !k.tls13 {
		return plain, typ, nil
	}
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		// RFC 8446 §5.4: no non-zero octet is an unexpected_message.
		return nil, 0, errDecrypt
	}
	return plain[:i], plain[i], nil
}
