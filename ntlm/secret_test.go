package ntlm

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

var fmtVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"}

// secretsOf returns every Secret reachable from a decoded value.
func secretsOf(v any) []Secret {
	var out []Secret
	add := func(s ...Secret) {
		for _, x := range s {
			if len(x) > 0 {
				out = append(out, x)
			}
		}
	}
	switch m := v.(type) {
	case *Challenge:
		add(m.ServerChallenge)
	case *Authenticate:
		add(m.LMResponse, m.NTResponse, m.EncryptedSessionKey, m.MIC)
		if m.ClientBlob != nil {
			add(m.ClientBlob.NTProofStr, m.ClientBlob.ClientChallenge)
		}
	case *Token:
		add(m.MechToken, m.MechListMIC)
		if m.NTLM != nil {
			out = append(out, secretsOf(m.NTLM)...)
		}
	case *AuthToken:
		add(m.Token)
	}
	return out
}

// assertRedacted prints v every way a caller might and fails if any secret
// shows, in hex (either case), base64 or raw.
func assertRedacted(t *testing.T, name string, v any) {
	t.Helper()
	secrets := secretsOf(v)
	var outs []string
	for _, verb := range fmtVerbs {
		outs = append(outs, fmt.Sprintf(verb, v))
	}
	// The value itself (not only the pointer) so fields print at depth 1.
	switch m := v.(type) {
	case *Challenge:
		for _, verb := range fmtVerbs {
			outs = append(outs, fmt.Sprintf(verb, *m))
		}
	case *Authenticate:
		for _, verb := range fmtVerbs {
			outs = append(outs, fmt.Sprintf(verb, *m))
			if m.ClientBlob != nil {
				outs = append(outs, fmt.Sprintf(verb, *m.ClientBlob))
			}
		}
	case *Token:
		for _, verb := range fmtVerbs {
			outs = append(outs, fmt.Sprintf(verb, *m))
		}
	case *AuthToken:
		for _, verb := range fmtVerbs {
			outs = append(outs, fmt.Sprintf(verb, *m))
		}
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: json: %v", name, err)
	}
	outs = append(outs, string(j))
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("m", "v", v)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("m", "v", v)
	outs = append(outs, logBuf.String())
	all := strings.Join(outs, "\n")
	for _, s := range secrets {
		for _, enc := range []string{hex.EncodeToString(s), strings.ToUpper(hex.EncodeToString(s)), base64.StdEncoding.EncodeToString(s), base64.RawStdEncoding.EncodeToString(s)} {
			if len(enc) >= 8 && strings.Contains(all, enc) {
				t.Errorf("%s: a %d-byte secret appears in the output as %s", name, len(s), enc)
			}
		}
		if len(s) >= 8 && strings.Contains(all, string(s)) {
			t.Errorf("%s: a %d-byte secret appears raw in the output", name, len(s))
		}
		if !strings.Contains(all, fmt.Sprintf("[redacted %d bytes]", len(s))) {
			t.Errorf("%s: no redaction marker for a %d-byte secret", name, len(s))
		}
	}
}

func TestSecretFormatting(t *testing.T) {
	s := Secret{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04}
	// (%p is left out: fmt prints the slice address for it before
	// consulting Format; an address is not the secret.)
	for _, verb := range append(fmtVerbs, "%10v", "%-20s", "%08x", "% x", "%#x") {
		got := fmt.Sprintf(verb, s)
		if verb == "%T" {
			continue
		}
		if got != "[redacted 8 bytes]" {
			t.Errorf("Sprintf(%q) = %q", verb, got)
		}
	}
	if s.String() != "[redacted 8 bytes]" || s.GoString() != "[redacted 8 bytes]" {
		t.Error("String/GoString")
	}
	j, _ := json.Marshal(struct{ S Secret }{s})
	if string(j) != `{"S":"[redacted 8 bytes]"}` {
		t.Errorf("json = %s", j)
	}
	if v := s.LogValue(); v.String() != "[redacted 8 bytes]" {
		t.Errorf("LogValue = %v", v)
	}
	if Secret(nil).String() != "[redacted 0 bytes]" || s.Len() != 8 {
		t.Error("nil / Len")
	}
}

func TestSecretKeyedHash(t *testing.T) {
	a, b := Secret("challenge"), Secret("challenge")
	k1, k2 := []byte("key one"), []byte("key two")
	if a.KeyedHash(k1) != b.KeyedHash(k1) {
		t.Error("equal secrets, different hashes")
	}
	if a.KeyedHash(k1) == a.KeyedHash(k2) {
		t.Error("hash ignores the key")
	}
	if a.KeyedHash(k1) == Secret("challengf").KeyedHash(k1) {
		t.Error("different secrets, same hash")
	}
}

// TestSecretsNeverPrinted decodes the inline MS-NLMP examples, and every
// vector when ../shared is present, and prints them every way.
func TestSecretsNeverPrinted(t *testing.T) {
	inputs := map[string][]byte{
		"NLMP-4.2.4.3-CHALLENGE":    mustHex(t, hexNLMP4243Chal),
		"NLMP-4.2.4.3-AUTHENTICATE": mustHex(t, hexNLMP4243Auth),
		"NLMP-4.2.2.3-AUTHENTICATE": mustHex(t, hexNLMP4223Auth),
		"SPNEGO-NegTokenInit-NTLM":  mustHex(t, hexNegTokenInitNTLM),
	}
	if raw := readVectorsFile(t); raw != nil {
		vs, err := parseVectors(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			inputs[v.ID] = v.Bytes
		}
	}
	for name, b := range inputs {
		if IsNTLMSSP(b) {
			m, _ := Decode(b)
			if m != nil {
				assertRedacted(t, name, m)
			}
		}
		tok, _ := DecodeToken(SchemeNegotiate, b)
		assertRedacted(t, name+" (token)", tok)
		at := ParseCredentialsHeader("Negotiate " + base64.StdEncoding.EncodeToString(b))
		assertRedacted(t, name+" (header)", &at)
	}
}
