package analyzer

import (
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
	credHeader      = [numChannels]string{"Authorization", "Proxy-Authorization"}
	challengeHeader = [numChannels]string{"WWW-Authenticate", "Proxy-Authenticate"}
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

// authMsg is what the analyzer keeps of one auth header: decoded non-secret
// fields and keyed hashes, never the token.
type authMsg struct {
	kind   msgKind
	scheme string // "NTLM", "Negotiate" or "Kerberos" as the analyzer names it
	spnego bool
	// tokenHash identifies the token bytes (keyed), for linking the legs of
	// a proxy.
	tokenHash [32]byte
	hasToken  bool
	// offersNegotiate is set on responses whose challenge header lists
	// Negotiate.
	offersNegotiate bool

	// Type 2.
	identity string
	idKey    [32]byte // keyed hash of identity and MsvAvTimestamp
	hasTS    bool

	// Type 3.
	user, domain, workstation string
	resp                      ntlm.ResponseKind
	echoIdentity              string
	echoKey                   [32]byte
	echoTS                    bool
	hasMIC                    bool
	cbNonZero                 bool
	hasFields                 bool // the Type 3 could be read far enough for a user
}

// hasher makes keyed hashes with the run's key.
type hasher struct{ key []byte }

func (h hasher) token(b ntlm.Secret) [32]byte { return b.KeyedHash(h.key) }

// identityKey hashes a server identity and MsvAvTimestamp (the pair a Type 3
// echoes from the Type 2 it answers).
func (h hasher) identityKey(identity string, p *ntlm.AVPairs) ([32]byte, bool) {
	var b strings.Builder
	b.WriteString("id:")
	b.WriteString(strings.ToLower(identity))
	ts := p != nil && p.HasTimestamp
	if ts {
		b.WriteString("|ts:")
		b.WriteString(strconv.FormatInt(p.Timestamp.UnixNano(), 10))
	}
	return ntlm.Secret(b.String()).KeyedHash(h.key), ts
}

// parseCredentials reads a request's credentials for one channel.
func (h hasher) parseCredentials(values []string) authMsg {
	for _, v := range values {
		t := ntlm.ParseCredentialsHeader(v)
		if m, ok := h.decode(t, true); ok {
			return m
		}
	}
	return authMsg{}
}

// parseChallenges reads a response's challenge headers for one channel: a
// Type 2 wins over an offer.
func (h hasher) parseChallenges(values []string) authMsg {
	var best authMsg
	negotiate := false
	for _, v := range values {
		for _, t := range ntlm.ParseChallengeHeader(v) {
			if t.Scheme == ntlm.SchemeNegotiate {
				negotiate = true
			}
			m, ok := h.decode(t, false)
			if !ok {
				continue
			}
			if best.kind == kindNone || rank(m.kind) > rank(best.kind) {
				best = m
			}
		}
	}
	best.offersNegotiate = negotiate
	return best
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
func (h hasher) decode(t ntlm.AuthToken, request bool) (authMsg, bool) {
	var m authMsg
	switch t.Scheme {
	case ntlm.SchemeNTLM:
		m.scheme = "NTLM"
	case ntlm.SchemeNegotiate:
		m.scheme = "Negotiate"
	case ntlm.SchemeKerberos:
		m.scheme = "Kerberos"
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
	tok, _ := ntlm.DecodeToken(t.Scheme, t.Token)
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
func (h hasher) readType3(m *authMsg, a *ntlm.Authenticate) {
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
