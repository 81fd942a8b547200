package report

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RandomKey returns a fresh 32-byte key for [Options.AnonymizeKey]: the
// pseudonyms it gives cannot be linked to those of another run.
func RandomKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("report: no randomness: " + err.Error())
	}
	return k
}

// anonymizer replaces identifying values with pseudonyms: a kind prefix and
// the first 4 bytes of HMAC-SHA256(key, kind, lower-cased value). The same
// value gets the same pseudonym under the same key (so a report stays
// readable: "user-1a2b3c4d failed 3 times on host-5e6f7a8b"), and without
// the key nobody can test a guess. Names compare case-insensitively, as
// Windows does.
//
// Every value it replaces is remembered so that free text (explanations,
// finding messages) can be rewritten with the same pseudonyms. The table
// lives in memory only; it is never written.
type anonymizer struct {
	key []byte
	// tokens maps a lower-cased original to its pseudonym; index groups
	// the originals by first rune, longest first, for text().
	tokens map[string]string
	index  map[rune][]string
	dirty  bool
	// learning turns text() off while the scrubber learns the report's
	// names (see scrubber.learn).
	learning bool
}

func newAnonymizer(key []byte) *anonymizer {
	if len(key) == 0 {
		key = RandomKey()
	}
	return &anonymizer{key: key, tokens: map[string]string{}}
}

// keep reports whether v is a placeholder that identifies no one: the
// conventions' (anonymous) and (unknown), or a value with no letter or
// digit at all.
func keep(v string) bool {
	switch v {
	case "(anonymous)", "(unknown)":
		return true
	}
	return !strings.ContainsFunc(v, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
}

// pseudo returns kind-xxxxxxxx for v and remembers it for text().
func (a *anonymizer) pseudo(kind, v string) string {
	if keep(v) {
		return v
	}
	low := strings.ToLower(v)
	if p, ok := a.tokens[low]; ok {
		return p
	}
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(low))
	p := kind + "-" + hex.EncodeToString(m.Sum(nil)[:4])
	a.remember(low, p)
	return p
}

func (a *anonymizer) remember(low, p string) {
	if _, ok := a.tokens[low]; !ok {
		a.tokens[low] = p
		a.dirty = true
	}
}

func (a *anonymizer) domain(v string) string      { return a.pseudo("dom", v) }
func (a *anonymizer) workstation(v string) string { return a.pseudo("ws", v) }

// user pseudonymizes a bare account name; user@realm keeps its shape.
func (a *anonymizer) user(v string) string {
	if u, realm, ok := strings.Cut(v, "@"); ok && u != "" && realm != "" {
		p := a.pseudo("user", u) + "@" + a.domain(realm)
		a.remember(strings.ToLower(v), p)
		return p
	}
	return a.pseudo("user", v)
}

// name pseudonymizes a user as the conventions write it: DOMAIN\user,
// user@realm or a bare user; placeholders such as (anonymous) stay.
func (a *anonymizer) name(v string) string {
	if keep(v) {
		return v
	}
	if d, u, ok := strings.Cut(v, `\`); ok {
		p := a.domain(d) + `\` + a.user(u)
		a.remember(strings.ToLower(v), p)
		return p
	}
	return a.user(v)
}

// host pseudonymizes a host name (or an address written where a host name
// goes). A dotted name's first label is remembered too, because text often
// quotes the short (NetBIOS) name.
func (a *anonymizer) host(v string) string {
	if _, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
		return a.ip(strings.Trim(v, "[]"))
	}
	if first, _, ok := strings.Cut(v, "."); ok && first != "" {
		a.pseudo("host", first)
	}
	return a.pseudo("host", v)
}

// ip pseudonymizes an IP address. The pseudonym is no address, so nobody
// mistakes it for a real one.
func (a *anonymizer) ip(v string) string {
	if addr, err := netip.ParseAddr(v); err == nil {
		return a.pseudo("ip", addr.Unmap().String())
	}
	return a.pseudo("ip", v)
}

// addr pseudonymizes "ip", "ip:port" or "[ipv6]:port", keeping the port
// (ports identify services, not people); anything else is taken as a host
// name, with or without a port.
func (a *anonymizer) addr(v string) string {
	if keep(v) {
		return v
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		ip := a.ip(ap.Addr().Unmap().String())
		p := ip + ":" + itoa(int(ap.Port()))
		a.remember(strings.ToLower(v), p)
		return p
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return a.ip(v)
	}
	if h, port, ok := strings.Cut(v, ":"); ok && isDigits(port) {
		return a.host(h) + ":" + port
	}
	return a.host(v)
}

// file replaces a capture file name (whose path or name may name a host or
// a person) by a pseudonym with the same extension.
func (a *anonymizer) file(v string) string {
	if v == "-" {
		return v
	}
	base := filepath.Base(v)
	ext := ""
	if i := strings.Index(base, "."); i > 0 {
		ext = base[i:]
	}
	p := a.pseudo("file", v) + ext
	// Messages and tables name a capture by its base name (see
	// analyzer.FileLabels): rewrite it as the whole name.
	a.remember(strings.ToLower(base), p)
	return p
}

// target pseudonymizes the host of an absolute-form request-target
// (http://host/path, sent to proxies) or a CONNECT authority, then any
// known name the path quotes.
func (a *anonymizer) target(method, t string) string {
	if method == "CONNECT" {
		return a.addr(t)
	}
	if u, err := url.Parse(t); err == nil && u.Host != "" {
		u.User = nil
		u.Host = a.addr(u.Host)
		t = u.String()
	}
	return a.text(t)
}

// ipv4At matches a dotted-quad IPv4 address at the start of a string: text
// may quote addresses no structured field named.
var ipv4At = regexp.MustCompile(`^(?:\d{1,3}\.){3}\d{1,3}`)

// ipv6At matches what may be an IPv6 address at the start of a string
// (hex digits, colons and dots for an embedded IPv4 part); text checks
// that it parses.
var ipv6At = regexp.MustCompile(`^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*`)

// ipv6Literal returns the length and canonical form of the IPv6 address at
// the start of s, if one stands there as a whole word (a sentence's final
// dot or colon is not part of it). Times (08:00:00) and MAC addresses do
// not parse as addresses.
func ipv6Literal(s string) (int, string, bool) {
	m := strings.TrimRight(ipv6At.FindString(s), ".:")
	if strings.Count(m, ":") < 2 || wordAt(s, len(m)) {
		return 0, "", false
	}
	addr, err := netip.ParseAddr(m)
	if err != nil || !addr.Is6() {
		return 0, "", false
	}
	return len(m), addr.Unmap().String(), true
}

// text rewrites free text: every known original (any case) that stands as
// a whole word, and every IPv4 and IPv6 address, becomes its pseudonym. Longer
// originals win ("CORP\alice" before "CORP"). Erring towards replacing too
// much is deliberate: a pseudonym inside a word is ugly, a leaked name is
// worse.
func (a *anonymizer) text(s string) string {
	if a.learning {
		return s
	}
	a.reindex()
	var b strings.Builder
	prevWord := false
	for i := 0; i < len(s); {
		if !prevWord {
			if m := ipv4At.FindString(s[i:]); m != "" && !wordAt(s, i+len(m)) && !dotted(s, i, i+len(m)) {
				if _, err := netip.ParseAddr(m); err == nil {
					b.WriteString(a.ip(m))
					i += len(m)
					prevWord = true
					continue
				}
			}
			if n, addr, ok := ipv6Literal(s[i:]); ok {
				b.WriteString(a.ip(addr))
				i += n
				prevWord = true
				continue
			}
			if n, p := a.match(s[i:]); n > 0 {
				b.WriteString(p)
				last, _ := utf8.DecodeLastRuneInString(s[i : i+n])
				prevWord = isWord(last)
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		prevWord = isWord(r)
		i += size
	}
	return b.String()
}

// match returns the length of the longest known original at the start of
// s that ends at a word boundary, and its pseudonym.
func (a *anonymizer) match(s string) (int, string) {
	r, _ := utf8.DecodeRuneInString(s)
	for _, tok := range a.index[unicode.ToLower(r)] {
		if len(s) >= len(tok) && strings.EqualFold(s[:len(tok)], tok) && !wordAt(s, len(tok)) {
			return len(tok), a.tokens[tok]
		}
	}
	return 0, ""
}

func (a *anonymizer) reindex() {
	if !a.dirty && a.index != nil {
		return
	}
	a.index = map[rune][]string{}
	for tok := range a.tokens {
		r, _ := utf8.DecodeRuneInString(tok)
		a.index[unicode.ToLower(r)] = append(a.index[unicode.ToLower(r)], tok)
	}
	for _, list := range a.index {
		slices.SortFunc(list, func(x, y string) int {
			if len(x) != len(y) {
				return len(y) - len(x)
			}
			return strings.Compare(x, y)
		})
	}
	a.dirty = false
}

// wordAt reports whether a word character starts at s[i] (so a match
// ending before i would cut a word).
func wordAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isWord(r)
}

// isWord: letters, digits and underscore. Dots, hyphens, backslashes and
// "@" separate words, so "alice." at the end of a sentence is still found.
func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// dotted reports whether the dotted quad s[i:j] is part of a longer
// dotted number ("<digit>." before it or ".<digit>" after it): a version
// such as 1.2.3.4.5 is no address.
func dotted(s string, i, j int) bool {
	digit := func(k int) bool { return k >= 0 && k < len(s) && s[k] >= '0' && s[k] <= '9' }
	return (i >= 2 && s[i-1] == '.' && digit(i-2)) || (j+1 < len(s) && s[j] == '.' && digit(j+1))
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
