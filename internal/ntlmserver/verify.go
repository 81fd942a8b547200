package ntlmserver

import (
	"strings"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// verdict is the outcome of checking one Type 3.
type verdict struct {
	result Result
	// user is DOMAIN\user as the Type 3 names it.
	user string
	// challengeFrom is the server whose Type 2 the Type 3 answers, from
	// the TargetInfo its NTLMv2 blob echoes; "" when it echoes none.
	challengeFrom string
}

// verify checks a Type 3 against the challenge pending on its connection
// (pending may be nil) and the user table.
func (s *Server) verify(pending *pendingChallenge, m *ntlm.Authenticate) verdict {
	v := verdict{user: displayUser(m.Domain, m.User)}
	var echoed *ntlm.AVPairs
	if m.ClientBlob != nil {
		echoed = m.ClientBlob.Pairs
		if echoed != nil {
			v.challengeFrom = echoed.NbComputerName
		}
	}
	switch {
	case pending == nil:
		v.result = ResultNoChallenge
		return v
	case m.Response != ntlm.ResponseNTLMv2:
		v.result = ResultNotNTLMv2
		return v
	}
	acct, ok := s.lookup(m.Domain, m.User)
	if !ok {
		v.result = ResultUnknownUser
		return v
	}
	ntowf := ntlm.NTOWFv2(m.User, m.Domain, acct.Password)
	if ntlm.VerifyNTLMv2(ntowf, pending.serverChallenge, m.NTResponse) {
		v.result = ResultAuthenticated
		return v
	}
	// The response does not fit. Say whether it answers another
	// challenge (what a balancer causes) or this one with a wrong
	// password: the blob echoes the Type 2's TargetInfo.
	if echoed != nil && (!strings.EqualFold(echoed.NbComputerName, s.opts.Name) ||
		!echoed.HasTimestamp || !echoed.Timestamp.Equal(pending.timestamp)) {
		v.result = ResultOtherChallenge
		return v
	}
	v.result = ResultBadPassword
	return v
}

// lookup finds the account a Type 3 names. The user name compares
// case-insensitively; the domain may be the account's NetBIOS domain, the
// server's DNS domain when the account is in the server's domain, or empty.
// A user principal name (user@realm, empty domain) is looked up as
// realm\user.
func (s *Server) lookup(domain, name string) (User, bool) {
	if domain == "" {
		if u, realm, ok := strings.Cut(name, "@"); ok {
			name, domain = u, realm
		}
	}
	for _, u := range s.opts.Users {
		if !strings.EqualFold(u.Name, name) {
			continue
		}
		ud := u.Domain
		if ud == "" {
			ud = s.opts.Domain
		}
		switch {
		case domain == "",
			strings.EqualFold(domain, ud),
			strings.EqualFold(ud, s.opts.Domain) && strings.EqualFold(domain, s.opts.DNSDomain):
			return u, true
		}
	}
	return User{}, false
}

// displayUser writes a user as the conventions do: DOMAIN\user, or the
// user alone (user@realm) when the domain is empty.
func displayUser(domain, user string) string {
	if domain == "" {
		return user
	}
	return domain + `\` + user
}
