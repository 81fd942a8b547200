package ntlmserver

import (
	"crypto/rand"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// serverVersion is what the Type 2 says the server runs: Windows Server
// 2019 (10.0 build 17763), as IIS 10 does.
var serverVersion = ntlm.Version{Major: 10, Minor: 0, Build: 17763, Revision: ntlm.NTLMRevisionCurrent}

// echoedFlags are the Type 1 flags the server grants when the client asks
// for them. NTLMSSP_NEGOTIATE_KEY_EXCH and NTLMSSP_NEGOTIATE_LM_KEY are never
// granted: the server does no session security, and go-ntlmssp refuses a
// challenge that asks for either.
var echoedFlags = []ntlm.NegotiateFlags{
	ntlm.NegotiateExtendedSessionSecurity,
	ntlm.Negotiate128,
	ntlm.Negotiate56,
	ntlm.NegotiateSign,
	ntlm.NegotiateSeal,
}

// newChallenge builds the Type 2 answering t1, as IIS does: a random
// server challenge, the domain as target name, and a TargetInfo naming this
// server with a timestamp.
func (s *Server) newChallenge(t1 *ntlm.Negotiate, now time.Time) (*ntlm.Challenge, *pendingChallenge, error) {
	sc := make([]byte, 8)
	if _, err := rand.Read(sc); err != nil {
		return nil, nil, err
	}
	flags := ntlm.RequestTarget | ntlm.NegotiateNTLM | ntlm.NegotiateAlwaysSign |
		ntlm.TargetTypeDomain | ntlm.NegotiateTargetInfo | ntlm.NegotiateVersion
	if t1.Flags.Has(ntlm.NegotiateUnicode) {
		flags |= ntlm.NegotiateUnicode
	} else {
		flags |= ntlm.NegotiateOEM
	}
	for _, f := range echoedFlags {
		if t1.Flags.Has(f) {
			flags |= f
		}
	}
	// FILETIME counts 100 ns ticks: keep what survives the wire.
	ts := now.UTC().Truncate(100 * time.Nanosecond)
	v := serverVersion
	ch := &ntlm.Challenge{
		Flags:           flags,
		TargetName:      s.opts.Domain,
		ServerChallenge: sc,
		Version:         &v,
		TargetInfo: &ntlm.AVPairs{
			NbDomainName:    s.opts.Domain,
			NbComputerName:  s.opts.Name,
			DnsDomainName:   s.opts.DNSDomain,
			DnsComputerName: s.opts.dnsName(),
			DnsTreeName:     s.opts.DNSDomain,
			Timestamp:       ts,
			HasTimestamp:    true,
		},
	}
	return ch, &pendingChallenge{serverChallenge: sc, timestamp: ts}, nil
}
