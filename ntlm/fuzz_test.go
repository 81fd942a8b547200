package ntlm

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Fuzz targets, seeded with the vectors when ../shared is present and with
// inline tokens always. Run one at a time with -parallel 1, e.g.
//
//	go test ./ntlm/ -run '^$' -fuzz '^FuzzDecode$' -fuzztime 10m -parallel 1
//
// Crashers land in testdata/fuzz/<target>/ and are replayed by go test.

func inlineSeeds(t testing.TB) [][]byte {
	return [][]byte{
		mustHex(t, hexNLMP4223Auth), mustHex(t, hexNLMP4233Auth), mustHex(t, hexNLMP4243Chal),
		mustHex(t, hexNLMP4243Auth), mustHex(t, hexNLMP4223Chal),
		mustHex(t, hexNegTokenInitNTLM), mustHex(t, hexAcceptComplete), mustHex(t, hexRequestMIC),
		[]byte("NTLMSSP\x00\x01\x00\x00\x00\x07\x82\x08\x00"),
		krbGSS(OIDKerberos5, []byte{1, 0}, tagKrbAPReq),
		negTokenInit([]string{OIDMSKerberos5, OIDNTLMSSP}, krbGSS(OIDKerberos5, []byte{1, 0}, tagKrbAPReq)),
	}
}

func seedBytes(f testing.TB) [][]byte {
	return append(inlineSeeds(f), vectorSeeds(f)...)
}

// checkParseError fails unless err is nil or a *ParseError with a message.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T is not a *ParseError: %v", err, err)
	}
	if !strings.HasPrefix(err.Error(), "ntlm: ") {
		t.Fatalf("error message %q lacks the ntlm: prefix", err)
	}
}

// checkRedacted checks each secret formats only as the redaction marker, and
// that printing the whole value shows at least one marker per secret. (The
// hex of a secret cannot be searched for in fuzzed output: overlapping
// buffers make a user name hold the same bytes as a response.)
func checkRedacted(t *testing.T, v any) {
	t.Helper()
	secrets := secretsOf(v)
	for _, s := range secrets {
		marker := fmt.Sprintf("[redacted %d bytes]", len(s))
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
			if got := fmt.Sprintf(verb, s); got != marker {
				t.Fatalf("Sprintf(%s, secret) = %q", verb, got)
			}
		}
	}
	out := fmt.Sprintf("%+v", v)
	if m, ok := v.(*Authenticate); ok && m.ClientBlob != nil {
		out += fmt.Sprintf("%+v", *m.ClientBlob)
	}
	if tok, ok := v.(*Token); ok && tok.NTLM != nil {
		out += fmt.Sprintf("%+v", tok.NTLM)
		if a, ok := tok.NTLM.(*Authenticate); ok && a.ClientBlob != nil {
			out += fmt.Sprintf("%+v", *a.ClientBlob)
		}
	}
	if n := strings.Count(out, "[redacted "); n < len(secrets) {
		t.Fatalf("%d redaction markers for %d secrets in %s", n, len(secrets), out)
	}
}

// checkReencode re-encodes a decoded message: no panic; when the decode was
// clean, the encoding is a fixed point (decode then encode again gives the
// same bytes, without error).
func checkReencode(t *testing.T, m Message, clean bool) {
	t.Helper()
	if m == nil {
		return
	}
	w1 := marshalMessage(m)
	m2, err := Decode(w1)
	if !clean {
		return
	}
	if err != nil {
		t.Fatalf("re-encoded message does not decode: %v\n%x", err, w1)
	}
	if w2 := marshalMessage(m2); !bytes.Equal(w1, w2) {
		t.Fatalf("encoding is not a fixed point:\n%x\n%x", w1, w2)
	}
}

func FuzzDecode(f *testing.F) {
	for _, b := range seedBytes(f) {
		if i := bytes.Index(b, []byte(Signature)); i >= 0 {
			b = b[i:]
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		checkParseError(t, err)
		if m == nil {
			if err == nil {
				t.Fatal("nil message without error")
			}
			return
		}
		checkRedacted(t, m)
		checkReencode(t, m, err == nil)
	})
}

func FuzzDecodeToken(f *testing.F) {
	for _, b := range seedBytes(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := DecodeToken(SchemeNegotiate, b)
		checkParseError(t, err)
		if tok == nil {
			t.Fatal("nil token")
		}
		if tok.NTLM != nil && tok.Mech != MechNTLM {
			t.Fatalf("NTLM message with Mech %v", tok.Mech)
		}
		checkRedacted(t, tok)
		checkReencode(t, tok.NTLM, err == nil)
		if tok.NTLM != nil {
			w := marshalMessage(tok.NTLM)
			_ = WrapSPNEGOInit(w)
			_ = WrapSPNEGOResp(tok.NegState, w)
		}
	})
}

func headerSeeds(f testing.TB) []string {
	seeds := []string{
		"NTLM", "Negotiate, NTLM", `Basic realm="a, b", NTLM`, `Digest realm="x", nonce="y", qop="auth", NTLM TlRMTVNTUAABAAAA`,
		"ntlm  TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA", "NTLM TlRM!!!", `Bearer realm="r", error="invalid_token"`,
		`Basic realm="a\", b", Negotiate YII=, Kerberos`, ",,=,\"", "Negotiate oRUwE6ADCgEDoQwGCisGAQQBgjcCAgo=",
	}
	for _, b := range seedBytes(f) {
		enc := base64.StdEncoding.EncodeToString(b)
		seeds = append(seeds, "NTLM "+enc, "Negotiate "+strings.TrimRight(enc, "="), `Basic realm="x, y", Negotiate `+enc)
	}
	return seeds
}

func checkAuthTokenInvariants(t *testing.T, value string, at AuthToken) {
	t.Helper()
	if at.SchemeName != "" && !strings.Contains(value, at.SchemeName) {
		t.Fatalf("scheme name %q not in %q", at.SchemeName, value)
	}
	if at.Err != nil {
		var pe *ParseError
		if !errors.As(at.Err, &pe) || (pe.Field != "token" && pe.Field != "scheme") {
			t.Fatalf("Err = %v", at.Err)
		}
		if at.Token != nil {
			t.Fatal("token and error both set")
		}
	}
	if at.Scheme != ParseScheme(at.SchemeName) {
		t.Fatalf("scheme %v for name %q", at.Scheme, at.SchemeName)
	}
	checkRedacted(t, &at)
	if at.Token != nil {
		tok, err := DecodeToken(at.Scheme, at.Token)
		checkParseError(t, err)
		checkRedacted(t, tok)
	}
}

func FuzzParseChallengeHeader(f *testing.F) {
	for _, s := range headerSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		got := ParseChallengeHeader(value)
		if len(got) > len(value) {
			t.Fatalf("%d challenges from %d bytes", len(got), len(value))
		}
		for _, at := range got {
			if at.SchemeName == "" {
				t.Fatal("challenge without a scheme name")
			}
			checkAuthTokenInvariants(t, value, at)
		}
	})
}

func FuzzParseCredentialsHeader(f *testing.F) {
	for _, s := range headerSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		at := ParseCredentialsHeader(value)
		if at.SchemeName == "" && at.Err == nil {
			t.Fatal("no scheme and no error")
		}
		checkAuthTokenInvariants(t, value, at)
	})
}
