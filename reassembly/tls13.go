package reassembly

import (
	"crypto"
	"crypto/hkdf"
	"errors"
)

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1):
//
//	HKDF-Expand-Label(Secret, Label, Context, Length) =
//	    HKDF-Expand(Secret, HkdfLabel, Length)
//	struct {
//	    uint16 length = Length;
//	    opaque label<7..255> = "tls13 " + Label;
//	    opaque context<0..255> = Context;
//	} HkdfLabel;
func expandLabel(h crypto.Hash, secret []byte, label string, context []byte, n int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full)+len(context))
	info = append(info, byte(n>>8), byte(n), byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	return hkdf.Expand(h.New, secret, string(info), n)
}

// keys13 derives the record keys of a TLS 1.3 traffic secret (RFC 8446
// §7.3):
//
//	[sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
//	[sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)
//
// iv_length is 12 for every TLS 1.3 suite.
func keys13(s *cipherSuite, sec secret) (*recordKeys, error) {
	if len(sec) != s.hash.Size() {
		return nil, errors.New("traffic secret does not fit the cipher suite's hash")
	}
	key, err := expandLabel(s.hash, sec, "key", nil, s.keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(s.hash, sec, "iv", nil, 12)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(s.aead, key)
	if err != nil {
		return nil, err
	}
	k := &recordKeys{aead: aead, tls13: true, secret: sec, suite: s}
	copy(k.iv[:], iv)
	return k, nil
}

// updateKeys13 returns the keys after a KeyUpdate (RFC 8446 §7.2):
//
//	application_traffic_secret_N+1 =
//	    HKDF-Expand-Label(application_traffic_secret_N,
//	                      "traffic upd", "", Hash.length)
//
// The sequence number starts again at 0 (§5.3).
func updateKeys13(k *recordKeys) (*recordKeys, error) {
	next, err := expandLabel(k.suite.hash, k.secret, "traffic upd", nil, k.suite.hash.Size())
	if err != nil {
		return nil, err
	}
	return keys13(k.suite, next)
}
