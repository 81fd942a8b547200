package ntlm

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Scheme is an HTTP authentication scheme (RFC 9110 11.1), recognised by
// name, case-insensitively.
type Scheme uint8

// Authentication schemes.
const (
	SchemeUnknown   Scheme = iota // a scheme not listed here; SchemeName has it
	SchemeNTLM                    // NTLM (MS-NTHT)
	SchemeNegotiate               // Negotiate: SPNEGO, or raw NTLMSSP / Kerberos (RFC 4559)
	SchemeKerberos                // Kerberos: bare Kerberos GSS tokens (WinRM)
	SchemeBasic                   // Basic (RFC 7617)
	SchemeDigest                  // Digest (RFC 7616)
	SchemeBearer                  // Bearer (RFC 6750)
)

var schemeNames = [...]string{
	SchemeUnknown:   "unknown",
	SchemeNTLM:      "NTLM",
	SchemeNegotiate: "Negotiate",
	SchemeKerberos:  "Kerberos",
	SchemeBasic:     "Basic",
	SchemeDigest:    "Digest",
	SchemeBearer:    "Bearer",
}

// String returns the canonical scheme name ("NTLM", "Negotiate"), "unknown",
// or "UNKNOWN_SCHEME_<n>".
func (s Scheme) String() string {
	if int(s) < len(schemeNames) {
		return schemeNames[s]
	}
	return "UNKNOWN_SCHEME_" + strconv.Itoa(int(s))
}

// ParseScheme returns the Scheme named name, case-insensitively.
func ParseScheme(name string) Scheme {
	for s := SchemeNTLM; int(s) < len(schemeNames); s++ {
		if strings.EqualFold(name, schemeNames[s]) {
			return s
		}
	}
	return SchemeUnknown
}

// isGSS reports whether the scheme carries GSS-API / NTLMSSP tokens.
func (s Scheme) isGSS() bool {
	return s == SchemeNTLM || s == SchemeNegotiate || s == SchemeKerberos
}

// carriesBase64 reports whether a token68 of this scheme is base64 to decode.
func (s Scheme) carriesBase64() bool {
	return s == SchemeNTLM || s == SchemeNegotiate || s == SchemeKerberos || s == SchemeBasic
}

// AuthToken is one challenge of a WWW-Authenticate / Proxy-Authenticate
// header, or the credentials of an Authorization / Proxy-Authorization
// header.
//
// Token holds the base64-decoded token68 for NTLM, Negotiate, Kerberos and
// Basic (Basic's is "user:password", hence a Secret like the others); for
// Bearer it holds the token as sent (it need not be base64). Auth-params
// (Basic realm, Digest nonce, ...) are dropped.
type AuthToken struct {
	Scheme     Scheme
	SchemeName string // as sent
	Token      Secret // base64-decoded token bytes; nil when the header carries none
	Err        error  // non-nil when the token is not valid base64 (*ParseError, Field "token")
}

// ParseChallengeHeader parses one WWW-Authenticate / Proxy-Authenticate
// value, which may hold several challenges (RFC 9110 11.6.1):
//
//	Negotiate, NTLM
//	Basic realm="a, b", NTLM TlRMTVNTUAACAAAA...
//	Digest realm="x", nonce="y", qop="auth", Negotiate
//
// Commas inside quoted strings do not split; a token68 is told from
// auth-params by what follows its trailing "=" padding. Several header lines
// are parsed one by one and their results appended. An empty value gives nil.
func ParseChallengeHeader(value string) []AuthToken {
	return parseChallenges(&authParser{s: value}, nil)
}

// parseChallenges appends the challenges p reads to out.
func parseChallenges(p *authParser, out []AuthToken) []AuthToken {
	for {
		t, ok := p.next()
		if !ok {
			return out
		}
		out = append(out, t)
	}
}

// ParseCredentialsHeader parses one Authorization / Proxy-Authorization
// value: a scheme and a token68 or auth-params. An empty value gives an
// AuthToken with SchemeUnknown and an Err.
func ParseCredentialsHeader(value string) AuthToken {
	return parseCredentials(&authParser{s: value})
}

// parseCredentials reads the credentials p holds.
func parseCredentials(p *authParser) AuthToken {
	t, ok := p.next()
	if !ok {
		return AuthToken{Err: &ParseError{Field: "scheme", Msg: "empty credentials", Err: ErrMalformed}}
	}
	return t
}

// authParser walks a header value. Grammar (RFC 9110 11.2, 11.6.1):
//
//	challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//	auth-param = token BWS "=" BWS ( token / quoted-string )
//	token68    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// It is lenient: extra spaces and tabs, empty list elements and junk are
// skipped, never fatal.
type authParser struct {
	s   string
	pos int
	// d, when set, receives the decoded tokens in its buffer instead of
	// memory of their own.
	d *Decoder
}

func (p *authParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// skipSeparators skips spaces and commas between list elements.
func (p *authParser) skipSeparators() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == ',') {
		p.pos++
	}
}

func (p *authParser) atEnd() bool { return p.pos >= len(p.s) }

// word reads a run of characters that can appear in a scheme, token or
// token68 (anything but space, comma, "=" and '"').
func (p *authParser) word() string {
	start, s := p.pos, p.s
	i := start
	// A token68 is hundreds of bytes, and this loop runs over every one:
	// eight at a time while none of them may end the word, then a table
	// lookup per byte.
	for i+8 <= len(s) {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if !mayEndWord(x) {
			i += 8
			continue
		}
		for end := i + 8; i < end; i++ {
			if wordEnd[s[i]] {
				p.pos = i
				return s[start:i]
			}
		}
	}
	for i < len(s) && !wordEnd[s[i]] {
		i++
	}
	p.pos = i
	return s[start:i]
}

// wordEnd marks the bytes that end a word.
var wordEnd = [256]bool{' ': true, '\t': true, ',': true, '=': true, '"': true}

// mayEndWord reports whether any of the eight bytes of x may end a word:
// one below '+' (space, tab and '"' are; so are a few bytes that do not),
// a ',' or a '='. It never misses one; base64 has none of them.
func mayEndWord(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (x - ones*'+') &^ x & highs // bytes below '+' (exact for any byte, '+' <= 0x80)
	comma, equals := x^(ones*','), x^(ones*'=')
	zero := ((comma - ones) &^ comma & highs) | ((equals - ones) &^ equals & highs)
	return below|zero != 0
}

// next reads one challenge.
func (p *authParser) next() (AuthToken, bool) {
	var name string
	for {
		p.skipSeparators()
		if p.atEnd() {
			return AuthToken{}, false
		}
		if name = p.word(); name != "" {
			break
		}
		// A stray '=' or '"' where a scheme should be: skip the element.
		p.skipElement()
	}
	t := AuthToken{SchemeName: name, Scheme: ParseScheme(name)}
	p.skipSpace()
	if p.atEnd() || p.s[p.pos] == ',' {
		return t, true
	}
	// token68, or the first auth-param?
	save := p.pos
	w := p.word()
	pad := p.pos
	for p.pos < len(p.s) && p.s[p.pos] == '=' {
		p.pos++
	}
	padded := p.s[pad:p.pos]
	after := p.pos
	p.skipSpace()
	endOfElement := p.atEnd() || p.s[p.pos] == ','
	switch {
	case w == "":
		// `NTLM "x"` or `NTLM =x`: nothing usable.
	case endOfElement:
		p.setToken68(&t, p.s[save:after]) // w + padded, without a copy
		return t, true
	case padded == "" && p.s[p.pos] == '=':
		// "name = value" (BWS around "=").
		p.pos = save
		p.params()
		return t, true
	case padded != "" && !t.Scheme.isGSS():
		// "name=value": auth-params follow, the first starting at save.
		p.pos = save
		p.params()
		return t, true
	}
	// Junk after the token ("NTLM abc def", "NTLM abc= def"): the NTLM,
	// Negotiate and Kerberos schemes carry a token68, never params, so
	// take the first word as the token (its error, if any, is reported)
	// and skip the rest of the element.
	p.pos = after
	if w != "" {
		p.setToken68(&t, p.s[save:after])
	} else if t.Scheme.carriesBase64() {
		t.Err = &ParseError{Field: "token", Msg: "not base64: starts with " + strconv.QuoteRune(rune(p.s[save])), Err: ErrMalformed}
	}
	p.skipElement()
	return t, true
}

// params skips auth-params of the current challenge: "name = value" items
// separated by commas, until an element that is not a param (a new scheme)
// or the end.
func (p *authParser) params() {
	for {
		p.skipSpace()
		if p.atEnd() {
			return
		}
		save := p.pos
		name := p.word()
		p.skipSpace()
		if name == "" || p.atEnd() || p.s[p.pos] != '=' {
			p.pos = save
			return
		}
		p.pos++ // '='
		p.skipSpace()
		if p.atEnd() || p.s[p.pos] == ',' {
			// "name=" then end: this was really a token68 of a new
			// challenge ("NTLM, abc="), not a param.
			p.pos = save
			return
		}
		p.value()
		p.skipSpace()
		if p.atEnd() {
			return
		}
		if p.s[p.pos] != ',' {
			p.skipElement()
		}
		// After commas: another param, or a new challenge.
		save = p.pos
		p.skipSeparators()
		if p.atEnd() {
			return
		}
		probe := p.pos
		p.word()
		p.skipSpace()
		isParam := !p.atEnd() && p.s[p.pos] == '='
		if isParam {
			// "name=" followed by a value is a param; "abc==" then
			// end or comma is a token68 scheme-less element, treated
			// as a param too (it cannot start a challenge).
			p.pos = probe
			continue
		}
		p.pos = save
		return
	}
}

// value reads a token or quoted-string (with backslash escapes).
func (p *authParser) value() {
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		p.pos++
		for p.pos < len(p.s) {
			switch p.s[p.pos] {
			case '\\':
				p.pos += 2
				continue
			case '"':
				p.pos++
				return
			}
			p.pos++
		}
		p.pos = len(p.s) // unterminated: runs to the end
		return
	}
	for p.pos < len(p.s) && p.s[p.pos] != ',' && p.s[p.pos] != ' ' && p.s[p.pos] != '\t' {
		p.pos++
	}
}

// skipElement skips to the next top-level comma, honouring quoted strings.
func (p *authParser) skipElement() {
	for p.pos < len(p.s) && p.s[p.pos] != ',' {
		if p.s[p.pos] == '"' {
			p.value()
			continue
		}
		p.pos++
	}
}

// setToken68 stores the token of a challenge in t, decoding base64 for
// the schemes that carry it.
func (p *authParser) setToken68(t *AuthToken, tok string) {
	var buf *[]byte
	if p.d != nil {
		buf = &p.d.b64
	}
	switch {
	case t.Scheme.carriesBase64():
		b, err := decodeBase64(buf, tok)
		if err != nil {
			t.Err = err
			return
		}
		t.Token = Secret(b)
	case t.Scheme == SchemeBearer && buf != nil:
		start := len(*buf)
		*buf = append(*buf, tok...)
		t.Token = Secret((*buf)[start:len(*buf):len(*buf)])
	case t.Scheme == SchemeBearer:
		t.Token = Secret(tok)
	}
}

// decodeBase64 decodes standard base64 with or without "=" padding: into
// memory of its own, or appended to *buf when buf is set (the result is
// then the appended part).
func decodeBase64(buf *[]byte, tok string) ([]byte, *ParseError) {
	trimmed := strings.TrimRight(tok, "=")
	var b []byte
	var err error
	if buf == nil {
		b, err = base64.RawStdEncoding.DecodeString(trimmed)
	} else {
		start := len(*buf)
		*buf, err = base64.RawStdEncoding.AppendDecode(*buf, []byte(trimmed))
		b = (*buf)[start:len(*buf):len(*buf)]
	}
	if err != nil {
		return nil, &ParseError{Field: "token", Msg: "not base64 (" + strconv.Itoa(len(tok)) + " characters): " + err.Error(), Err: ErrMalformed}
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}
