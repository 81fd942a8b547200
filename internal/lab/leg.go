package lab

import (
	"strings"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
	"github.com/ntlmscope/ntlmscope/ntlm"
)

// ClientLeg is one request of a client and the status it got, as the
// client saw it: the client's side of the ground truth.
type ClientLeg struct {
	// User is the account the client authenticates as (DOMAIN\user).
	User string `json:"user"`
	Path string `json:"path"`
	// Step is the NTLM message the request carried.
	Step ntlmserver.Step `json:"step"`
	// Proxy is set when the message went in Proxy-Authorization.
	Proxy  bool `json:"proxy,omitempty"`
	Status int  `json:"status"`
	// Local is the client's ip:port: which of its connections it used.
	Local string `json:"local,omitempty"`
}

// stepOf says which NTLM step an Authorization or Proxy-Authorization
// value carries: type1, type3, none for an empty value, invalid otherwise.
func stepOf(value string) ntlmserver.Step {
	if strings.TrimSpace(value) == "" {
		return ntlmserver.StepNone
	}
	tok := ntlm.ParseCredentialsHeader(value)
	if tok.Err != nil {
		return ntlmserver.StepInvalid
	}
	dec, err := ntlm.DecodeToken(tok.Scheme, tok.Token)
	if err != nil || dec.NTLM == nil {
		return ntlmserver.StepInvalid
	}
	switch dec.NTLM.Type() {
	case ntlm.TypeNegotiate:
		return ntlmserver.StepType1
	case ntlm.TypeAuthenticate:
		return ntlmserver.StepType3
	}
	return ntlmserver.StepInvalid
}
