package analyzer

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// channel tells server authentication (401, WWW-Authenticate, Authorization)
// from proxy authentication (407, Proxy-Authenticate, Proxy-Authorization).
type channel uint8

const (
	chServer channel = iota
	chProxy
	numChannels
)

// credHeader, challengeHeader and authStatus name each channel's headers and
// status code.
var (
	credHeader      = [numChannels]headerID{hdrAuthorization, hdrProxyAuthorization}
	challengeHeader = [numChannels]headerID{hdrWWWAuthenticate, hdrProxyAuthenticate}
	authStatus      = [numChannels]int{401, 407}
)

// msgKind is what an auth header carried.
type msgKind uint8

const (
	kindNone     msgKind = iota // no NTLM/Negotiate/Kerberos header
	kindType1                   // NTLM NEGOTIATE_MESSAGE
	kindType2                   // NTLM CHALLENGE_MESSAGE
	kindType3                   // NTLM AUTHENTICATE_MESSAGE
	kindKerberos                // a Kerberos token
	kindOffer                   // NTLM or Negotiate offered without a token
	kindOther                   // a token that is neither (NegoEx, a SPNEGO final answer, undecodable)
)

// authScheme names an auth scheme as the analyzer names it (schemeNone
// before one is known).
type authScheme uint8

const (
	schemeNone authScheme = iota
	schemeNTLM
	schemeNegotiate
	schemeKerberos
)

var authSchemeNames = [...]string{schemeNone: "", schemeNTLM: "NTLM", schemeNegotiate: "Negotiate", schemeKerberos: "Kerberos"}

// String returns "", "NTLM", "Negotiate" or "Kerberos".
func (s authScheme) String() string { return authSchemeNames[s] }

// authMsg is what the analyzer keeps of one auth header: decoded non-secret
// fields and keyed hashes, never the token.
type authMsg struct {
	kind   msgKind
	scheme authScheme
	spnego bool
	// tokenHash identifies the token bytes (keyed), for linking the legs of
	// a proxy.
	tokenHash digest
	hasToken  bool
	// offersNegotiate is set on responses whose challenge header lists
	// Negotiate.
	offersNegotiate bool

	// Type 2.
	identity string
	idKey    digest // keyed hash of identity and MsvAvTimestamp
	hasTS    bool

	// Type 3.
	user, domain, workstation string
	resp                      ntlm.ResponseKind
	echoIdentity              string
	echoKey                   digest
	echoTS                    bool
	hasMIC                    bool
	cbNonZero                 bool
	hasFields                 bool // the Type 3 could be read far enough for a user
}

// digest is a keyed hash: HMAC-SHA-256 with the run's key, cut to 128 bits,
// which is ample to tell apart the tokens and challenges of one capture and
// halves what every handshake keeps.
type digest [16]byte

// hasher makes keyed hashes with the run's key and decodes auth headers.
// It reuses one HMAC state and one ntlm.Decoder (the tokens it decodes
// live until the next header: only hashes and non-secret fields are
// kept), and remembers how header values that repeat byte for byte decode
// (a client sends the same Type 1 on every connection; servers send the
// same bare offers), keyed by a seeded hash of the value so that no header
// is kept. It is not safe for concurrent use: the Analyzer calls it under
// its lock.
type hasher struct {
	mac     hash.Hash
	dec     ntlm.Decoder
	scratch []byte
	out     []byte // the HMAC's output, reused
	seed    maphash.Seed
	memo    map[memoKey]memoEntry
}

// memoKey names a header value: its seeded hash, its length and whether it
// was a request's.
type memoKey struct {
	hash    uint64
	n       int
	request bool
}

// memoEntry is how a header value decoded.
type memoEntry struct {
	msg authMsg
	ok  bool
}

// maxMemo bounds the remembered header values; the table is emptied when
// full (values that repeat come back at once).
const maxMemo = 4096

// maxMemoLen is the longest header value looked up in the memo: offers and
// Type 1 messages (even SPNEGO-wrapped) are shorter; Type 2, Type 3 and
// Kerberos tokens, which never repeat, are longer and are not hashed twice.
const maxMemoLen = 192

func newHasher(key []byte) *hasher {
	return &hasher{mac: hmac.New(sha256.New, key), seed: maphash.MakeSeed(), memo: map[memoKey]memoEntry{}}
}

// sum returns the keyed hash of b.
func (h *hasher) sum(b []byte) digest {
	h.mac.Reset()
	h.mac.Write(b)
	h.out = h.mac.Sum(h.out[:0])
	var d digest
	copy(d[:], h.out)
	return d
}

func (h *hasher) token(b ntlm.Secret) digest { return h.sum(b) }

// identityKey hashes a server identity and MsvAvTimestamp (the pair a Type 3
// echoes from the Type 2 it answers).
func (h *hasher) identityKey(identity string, p *ntlm.AVPairs) (digest, bool) {
	b := append(h.scratch[:0], "id:"...)
	for i := 0; i < len(identity); i++ {
		c := identity[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		} else if c >= 0x80 {
			b = append(b[:3], strings.ToLower(identity)...)
			break
		}
		b = append(b, c)
	}
	ts := p != nil && p.HasTimestamp
	if ts {
		b = append(b, "|ts:"...)
		b = strconv.AppendInt(b, p.Timestamp.UnixNano(), 10)
	}
	h.scratch = b
	return h.sum(b), ts
}

// remembered looks a header value up in the memo.
func (h *hasher) remembered(v string, request bool) (memoKey, memoEntry, bool) {
	if len(v) > maxMemoLen {
		return memoKey{n: -1}, memoEntry{}, false
	}
	k := memoKey{hash: maphash.String(h.seed, v), n: len(v), request: request}
	e, ok := h.memo[k]
	return k, e, ok
}

// remember records how a value decoded, when it carries nothing that is
// unique to one handshake (no Type 2 or Type 3, no Kerberos token).
func (h *hasher) remember(k memoKey, e memoEntry) {
	switch e.msg.kind {
	case kindType2, kindType3, kindKerberos:
		return
	}
	if k.n < 0 {
		return // too long to look up
	}
	if len(h.memo) >= maxMemo {
		clear(h.memo)
	}
	h.memo[k] = e
}

// parseCredentials reads a request's credentials for one channel.
func (h *hasher) parseCredentials(hd *msgHeaders, id headerID) authMsg {
	var out authMsg
	done := false
	hd.values(id, func(v string) {
		if done {
			return
		}
		k, e, ok := h.remembered(v, true)
		if !ok {
			e.msg, e.ok = h.decode(h.dec.ParseCredentialsHeader(v), true)
			h.remember(k, e)
		}
		if e.ok {
			out, done = e.msg, true
		}
	})
	return out
}

// parseChallenges reads a response's challenge headers for one channel: a
// Type 2 wins over an offer.
func (h *hasher) parseChallenges(hd *msgHeaders, id headerID) authMsg {
	var best authMsg
	negotiate := false
	hd.values(id, func(v string) {
		k, e, ok := h.remembered(v, false)
		if !ok {
			e.msg, e.ok = h.bestChallenge(v)
			h.remember(k, e)
		}
		if e.msg.offersNegotiate {
			negotiate = true
		}
		if e.ok && (best.kind == kindNone || rank(e.msg.kind) > rank(best.kind)) {
			best = e.msg
		}
	})
	best.offersNegotiate = negotiate
	return best
}

// bestChallenge decodes one challenge header value: its best token (ok
// when any is NTLM, Negotiate or Kerberos), and whether it lists Negotiate
// (in offersNegotiate).
func (h *hasher) bestChallenge(v string) (authMsg, bool) {
	var best authMsg
	found, negotiate := false, false
	for _, t := range h.dec.ParseChallengeHeader(v) {
		if t.Scheme == ntlm.SchemeNegotiate {
			negotiate = true
		}
		m, ok := h.decode(t, false)
		if !ok {
			continue
		}
		if !found || rank(m.kind) > rank(best.kind) {
			best, found = m, true
		}
	}
	best.offersNegotiate = negotiate
	return best, found
}

func rank(k msgKind) int {
	switch k {
	case kindType2:
		return 3
	case kindOffer:
		return 2
	case kindNone:
		return 0
	}
	return 1
}

// decode classifies one token; ok is false for schemes the analyzer ignores
// (Basic, Digest, Bearer, unknown).
func (h *hasher) decode(t ntlm.AuthToken, request bool) (authMsg, bool) {
	var m authMsg
	switch t.Scheme {
	case ntlm.SchemeNTLM:
		m.scheme = schemeNTLM
	case ntlm.SchemeNegotiate:
		m.scheme = schemeNegotiate
	case ntlm.SchemeKerberos:
		m.scheme = schemeKerberos
	default:
		return m, false
	}
	if t.Err != nil {
		m.kind = kindOther
		return m, true
	}
	if len(t.Token) == 0 {
		if t.Scheme == ntlm.SchemeKerberos {
			m.kind = kindOther // a bare Kerberos offer: not counted as an NTLM offer
			return m, true
		}
		if request {
			m.kind = kindOther
		} else {
			m.kind = kindOffer
		}
		return m, true
	}
	m.hasToken = true
	m.tokenHash = h.token(t.Token)
	tok, _ := h.dec.DecodeToken(t.Scheme, t.Token)
	if tok == nil {
		m.kind = kindOther
		return m, true
	}
	m.spnego = tok.SPNEGO != ntlm.NotSPNEGO
	switch {
	case tok.Mech == ntlm.MechKerberos || t.Scheme == ntlm.SchemeKerberos:
		m.kind = kindKerberos
		return m, true
	case tok.Mech != ntlm.MechNTLM:
		m.kind = kindOther
		return m, true
	}
	switch msg := tok.NTLM.(type) {
	case *ntlm.Negotiate:
		m.kind = kindType1
	case *ntlm.Challenge:
		m.kind = kindType2
		if msg != nil {
			m.identity = msg.TargetInfo.ServerIdentity()
			if m.identity != "" {
				m.idKey, m.hasTS = h.identityKey(m.identity, msg.TargetInfo)
			}
		}
	case *ntlm.Authenticate:
		m.kind = kindType3
		if msg != nil {
			h.readType3(&m, msg)
		}
	default:
		m.kind = kindFromBytes(tok.MechToken)
	}
	return m, true
}

// readType3 copies the non-secret fields of a Type 3.
func (h *hasher) readType3(m *authMsg, a *ntlm.Authenticate) {
	m.hasFields = true
	m.user, m.domain, m.workstation = a.User, a.Domain, a.Workstation
	m.resp = a.Response
	m.hasMIC = a.MIC.Len() > 0
	if b := a.ClientBlob; b != nil && b.Pairs != nil {
		p := b.Pairs
		m.echoIdentity = p.ServerIdentity()
		if m.echoIdentity != "" {
			m.echoKey, m.echoTS = h.identityKey(m.echoIdentity, p)
		}
		m.cbNonZero = p.HasChannelBindings && !p.ChannelBindingsZero
	}
}

// kindFromBytes falls back on the NTLMSSP header's type field when the
// message could not be decoded.
func kindFromBytes(b ntlm.Secret) msgKind {
	if len(b) < 12 || !ntlm.IsNTLMSSP(b) {
		return kindOther
	}
	switch b[8] {
	case 1:
		return kindType1
	case 2:
		return kindType2
	case 3:
		return kindType3
	}
	return kindOther
}
