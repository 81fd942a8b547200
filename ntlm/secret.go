package ntlm

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strconv"
)

// Secret holds bytes that must never be printed: server challenges, LM and NT
// responses, NTProofStr, session keys, MICs and raw tokens.
//
// Every way of printing a Secret shows only its length, "[redacted N bytes]":
// String, GoString, Format (all fmt verbs, %x %v %+v %#v %s %q included, also
// when the Secret is a field of a struct being printed), MarshalJSON and
// LogValue. The bytes remain available to code (a Secret is a []byte); to
// match two secrets without showing them, compare KeyedHash values.
type Secret []byte

// Len returns the number of secret bytes.
func (s Secret) Len() int { return len(s) }

// redacted is the only text a Secret ever prints.
func (s Secret) redacted() string {
	return "[redacted " + strconv.Itoa(len(s)) + " bytes]"
}

// String returns "[redacted N bytes]".
func (s Secret) String() string { return s.redacted() }

// GoString returns "[redacted N bytes]", for %#v.
func (s Secret) GoString() string { return s.redacted() }

// Format implements fmt.Formatter so that every verb, including %x and %q,
// prints "[redacted N bytes]".
func (s Secret) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(s.redacted()))
}

// MarshalJSON returns the JSON string "[redacted N bytes]".
func (s Secret) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(s.redacted())), nil
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// KeyedHash returns HMAC-SHA256(key, s). Two messages carrying the same secret
// (a server challenge echoed by a load balancer, a replayed NT response) give
// the same hash under the same key, without the secret being printed. Draw the
// key at random at start-up so the hashes cannot be reversed by guessing.
func (s Secret) KeyedHash(key []byte) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write(s)
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

// cloneSecret copies b into a new Secret; empty input gives nil, so that
// decoded values compare equal with reflect.DeepEqual after a round trip.
func cloneSecret(b []byte) Secret {
	if len(b) == 0 {
		return nil
	}
	return Secret(append([]byte(nil), b...))
}
