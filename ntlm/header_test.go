package ntlm

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// t1 is curl's NEGOTIATE in base64, with and without padding.
const (
	t1Padded   = "TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA="
	t1Unpadded = "TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA"
)

// want describes one expected AuthToken: scheme, name as sent, token (as a
// string, "" for none) and an error substring ("" for none).
type want struct {
	scheme Scheme
	name   string
	token  string
	err    string
}

func checkAuthToken(t *testing.T, i int, got AuthToken, w want) {
	t.Helper()
	if got.Scheme != w.scheme || got.SchemeName != w.name || string(got.Token) != w.token {
		t.Errorf("[%d] got {%v %q token %d bytes}, want {%v %q token %d bytes}", i, got.Scheme, got.SchemeName, len(got.Token), w.scheme, w.name, len(w.token))
	}
	switch {
	case w.err == "" && got.Err != nil:
		t.Errorf("[%d] unexpected error %v", i, got.Err)
	case w.err != "":
		var pe *ParseError
		if !errors.As(got.Err, &pe) || pe.Field != "token" || !strings.Contains(got.Err.Error(), w.err) || !errors.Is(got.Err, ErrMalformed) {
			t.Errorf("[%d] err = %v, want a token ParseError containing %q", i, got.Err, w.err)
		}
	}
}

func TestParseChallengeHeader(t *testing.T) {
	t1 := string(mustHex(t, "4e544c4d53535000010000000682080000000000000000000000000000000000"))
	tests := []struct {
		name  string
		value string
		want  []want
	}{
		{"empty", "", nil},
		{"only separators", " , ,\t", nil},
		{"bare NTLM", "NTLM", []want{{SchemeNTLM, "NTLM", "", ""}}},
		{"two bare schemes", "Negotiate, NTLM", []want{{SchemeNegotiate, "Negotiate", "", ""}, {SchemeNTLM, "NTLM", "", ""}}},
		{"case-insensitive", "negotiate, ntlm, KERBEROS, basic, DiGeSt, bearer", []want{
			{SchemeNegotiate, "negotiate", "", ""}, {SchemeNTLM, "ntlm", "", ""}, {SchemeKerberos, "KERBEROS", "", ""},
			{SchemeBasic, "basic", "", ""}, {SchemeDigest, "DiGeSt", "", ""}, {SchemeBearer, "bearer", "", ""}}},
		{"token with padding", "NTLM " + t1Padded, []want{{SchemeNTLM, "NTLM", t1, ""}}},
		{"token without padding", "NTLM " + t1Unpadded, []want{{SchemeNTLM, "NTLM", t1, ""}}},
		{"extra spaces and tabs", "  NTLM  \t " + t1Padded + "   ,   Negotiate  ", []want{{SchemeNTLM, "NTLM", t1, ""}, {SchemeNegotiate, "Negotiate", "", ""}}},
		{"comma inside quoted realm", `Basic realm="a, b", NTLM`, []want{{SchemeBasic, "Basic", "", ""}, {SchemeNTLM, "NTLM", "", ""}}},
		{"escaped quote in realm", `Basic realm="a\", NTLM b", NTLM`, []want{{SchemeBasic, "Basic", "", ""}, {SchemeNTLM, "NTLM", "", ""}}},
		{"digest params then token", `Digest realm="x", nonce="y", qop="auth,auth-int", algorithm=MD5, NTLM ` + t1Padded + `, Negotiate`, []want{
			{SchemeDigest, "Digest", "", ""}, {SchemeNTLM, "NTLM", t1, ""}, {SchemeNegotiate, "Negotiate", "", ""}}},
		{"params with spaces around =", `Basic realm = "x" , charset=UTF-8, Negotiate`, []want{{SchemeBasic, "Basic", "", ""}, {SchemeNegotiate, "Negotiate", "", ""}}},
		{"bearer params", `Bearer realm="example", error="invalid_token", error_description="expired, sorry", Negotiate`, []want{
			{SchemeBearer, "Bearer", "", ""}, {SchemeNegotiate, "Negotiate", "", ""}}},
		{"unknown scheme kept", `Foo bar=baz, NTLM`, []want{{SchemeUnknown, "Foo", "", ""}, {SchemeNTLM, "NTLM", "", ""}}},
		{"token68 with padding before comma", "Negotiate YII=, NTLM", []want{{SchemeNegotiate, "Negotiate", "\x60\x82", ""}, {SchemeNTLM, "NTLM", "", ""}}},
		{"empty elements", ",,NTLM,,", []want{{SchemeNTLM, "NTLM", "", ""}}},
		{"not base64", "NTLM TlRM!!!", []want{{SchemeNTLM, "NTLM", "", "illegal base64 data at input byte 4"}}},
		{"base64url characters", "Negotiate ab-_", []want{{SchemeNegotiate, "Negotiate", "", "illegal base64 data"}}},
		{"impossible base64 length", "Negotiate abcde", []want{{SchemeNegotiate, "Negotiate", "", "illegal base64 data"}}},
		{"bad token then a good challenge", "NTLM %%%, Negotiate " + t1Padded, []want{{SchemeNTLM, "NTLM", "", "illegal base64"}, {SchemeNegotiate, "Negotiate", t1, ""}}},
		{"junk after token", "NTLM " + t1Padded + " junk, Negotiate", []want{{SchemeNTLM, "NTLM", t1, ""}, {SchemeNegotiate, "Negotiate", "", ""}}},
		{"unterminated quote", `Basic realm="a, NTLM`, []want{{SchemeBasic, "Basic", "", ""}}},
		{"stray equals", `=, NTLM`, []want{{SchemeNTLM, "NTLM", "", ""}}},
		{"quoted string instead of a token", `NTLM "TlRM", Negotiate`, []want{{SchemeNTLM, "NTLM", "", `not base64: starts with '"'`}, {SchemeNegotiate, "Negotiate", "", ""}}},
		{"equals instead of a token", `Negotiate =abc`, []want{{SchemeNegotiate, "Negotiate", "", `not base64: starts with '='`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseChallengeHeader(tt.value)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d challenges %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				checkAuthToken(t, i, got[i], tt.want[i])
			}
		})
	}
}

func TestParseChallengeHeaderSeveralLines(t *testing.T) {
	// Several WWW-Authenticate lines: parse each, append.
	var all []AuthToken
	for _, line := range []string{"Negotiate", "NTLM", `Basic realm="intranet"`} {
		all = append(all, ParseChallengeHeader(line)...)
	}
	if len(all) != 3 || all[0].Scheme != SchemeNegotiate || all[1].Scheme != SchemeNTLM || all[2].Scheme != SchemeBasic {
		t.Errorf("got %+v", all)
	}
}

func TestParseCredentialsHeader(t *testing.T) {
	t1 := string(mustHex(t, "4e544c4d53535000010000000682080000000000000000000000000000000000"))
	tests := []struct {
		value string
		want  want
	}{
		{"NTLM " + t1Padded, want{SchemeNTLM, "NTLM", t1, ""}},
		{"ntlm   " + t1Unpadded + "  ", want{SchemeNTLM, "ntlm", t1, ""}},
		{"Negotiate " + t1Padded, want{SchemeNegotiate, "Negotiate", t1, ""}},
		{"Kerberos YII=", want{SchemeKerberos, "Kerberos", "\x60\x82", ""}},
		{"Basic dXNlcjpwYXNz", want{SchemeBasic, "Basic", "user:pass", ""}},
		{`Digest username="x", realm="y, z", response="abc"`, want{SchemeDigest, "Digest", "", ""}},
		{"Bearer abc.def-ghi_", want{SchemeBearer, "Bearer", "abc.def-ghi_", ""}},
		{"NTLM", want{SchemeNTLM, "NTLM", "", ""}},
		{"NTLM TlRM TVNT", want{SchemeNTLM, "NTLM", "NTL", ""}},
		{"NTLM Tl*M", want{SchemeNTLM, "NTLM", "", "illegal base64 data at input byte 2"}},
	}
	for i, tt := range tests {
		checkAuthToken(t, i, ParseCredentialsHeader(tt.value), tt.want)
	}
	empty := ParseCredentialsHeader("   ")
	var pe *ParseError
	if !errors.As(empty.Err, &pe) || empty.Scheme != SchemeUnknown {
		t.Errorf("empty credentials: %+v", empty)
	}
}

func TestSchemeString(t *testing.T) {
	for s, name := range map[Scheme]string{SchemeNTLM: "NTLM", SchemeNegotiate: "Negotiate", SchemeUnknown: "unknown", Scheme(42): "UNKNOWN_SCHEME_42"} {
		if s.String() != name {
			t.Errorf("%d: %s, want %s", s, s, name)
		}
	}
}

// TestWord checks authParser.word, which reads eight bytes at a time,
// against a byte-at-a-time reading, on strings of every length up to 40
// made of base64, the bytes that end a word, and bytes close to them.
func TestWord(t *testing.T) {
	alphabet := "AZaz09+/-._~ \t,=\"!#*\x00\x7f\x80\xff"
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 41 {
		for range 200 {
			b := make([]byte, n)
			for i := range b {
				if rng.IntN(4) == 0 {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				} else {
					b[i] = "ABCdef012+/"[rng.IntN(11)]
				}
			}
			s := string(b)
			start := rng.IntN(n + 1)
			want := start
			for want < len(s) && !strings.ContainsRune(" \t,=\"", rune(s[want])) {
				want++
			}
			p := authParser{s: s, pos: start}
			if got := p.word(); got != s[start:want] || p.pos != want {
				t.Fatalf("word(%q from %d) = %q, pos %d; want %q, pos %d", s, start, got, p.pos, s[start:want], want)
			}
		}
	}
}
