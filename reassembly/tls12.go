package reassembly

import (
	"crypto"
	"crypto/hmac"
	"errors"
)

// prf12 is the TLS 1.2 PRF (RFC 5246 §5) with the suite's hash:
//
//	PRF(secret, label, seed) = P_<hash>(secret, label + seed)
//	P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
//	                       HMAC_hash(secret, A(2) + seed) + ...
//	A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
func prf12(h crypto.Hash, secret []byte, label string, seed []byte, n int) []byte {
	labelSeed := append([]byte(label), seed...)
	out := make([]byte, 0, n+h.Size())
	mac := hmac.New(h.New, secret)
	mac.Write(labelSeed)
	a := mac.Sum(nil) // A(1)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(labelSeed)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// keys12 derives the record keys of a TLS 1.2 connection from its master
// secret (RFC 5246 §6.3):
//
//	key_block = PRF(master_secret, "key expansion",
//	                server_random + client_random)
//
// partitioned, for the AEAD suites (which have no MAC key), into
//
//	client_write_key[keyLen] server_write_key[keyLen]
//	client_write_IV[ivLen]   server_write_IV[ivLen]
//
// ivLen is 4 for GCM (the salt, RFC 5288 §3) and 12 for ChaCha20-Poly1305
// (RFC 7905 §2). The result is indexed by role (0 client, 1 server).
func keys12(s *cipherSuite, master, clientRandom, serverRandom []byte) ([2]*recordKeys, error) {
	var out [2]*recordKeys
	if len(master) != 48 {
		return out, errors.New("master secret is not 48 bytes")
	}
	ivLen := 4
	if s.aead == aeadChaCha20Poly1305 {
		ivLen = 12
	}
	seed := append(append([]byte(nil), serverRandom...), clientRandom...)
	kb := prf12(s.hash, master, "key expansion", seed, 2*s.keyLen+2*ivLen)
	for role := range out {
		key := kb[role*s.keyLen : (role+1)*s.keyLen]
		iv := kb[2*s.keyLen+role*ivLen : 2*s.keyLen+(role+1)*ivLen]
		aead, err := newAEAD(s.aead, key)
		if err != nil {
			return out, err
		}
		k := &recordKeys{aead: aead, explicit: s.aead == aeadAESGCM, suite: s}
		copy(k.iv[:], iv)
		out[role] = k
	}
	return out, nil
}
