package ntlmserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Step is the NTLM step a request carried.
type Step string

// Steps, as logged.
const (
	StepNone    Step = "none"    // no Authorization header
	StepType1   Step = "type1"   // NTLM NEGOTIATE
	StepType3   Step = "type3"   // NTLM AUTHENTICATE
	StepInvalid Step = "invalid" // a header the server cannot use (other scheme, bad token, a Type 2)
)

// Result says why the server answered as it did.
type Result string

// Results, as logged.
const (
	// ResultOffered: no credentials on an unauthenticated connection; 401
	// offering Negotiate and NTLM.
	ResultOffered Result = "offered"
	// ResultChallenged: a Type 1 answered with a Type 2.
	ResultChallenged Result = "challenged"
	// ResultAuthenticated: a Type 3 that verified; the connection is now
	// authenticated.
	ResultAuthenticated Result = "authenticated"
	// ResultSession: no credentials on an authenticated connection; served.
	ResultSession Result = "session"
	// ResultAnonymous: served without authentication (Options.Anonymous).
	ResultAnonymous Result = "anonymous"
	// ResultNoChallenge: a Type 3 on a connection with no pending challenge
	// (never issued, or already used).
	ResultNoChallenge Result = "no-challenge"
	// ResultOtherChallenge: a Type 3 answering a challenge other than the
	// one pending on this connection (its echoed TargetInfo names another
	// server or carries another timestamp).
	ResultOtherChallenge Result = "other-challenge"
	// ResultBadPassword: a Type 3 answering this connection's challenge
	// whose NTLMv2 response matches no password of the user's account.
	ResultBadPassword Result = "bad-password"
	// ResultUnknownUser: a Type 3 naming no account of the user table.
	ResultUnknownUser Result = "unknown-user"
	// ResultNotNTLMv2: a Type 3 with an LM, NTLMv1 or anonymous response.
	ResultNotNTLMv2 Result = "not-ntlmv2"
	// ResultBadToken: an Authorization header the server could not use.
	ResultBadToken Result = "bad-token"
)

// Entry is one line of the request log: the server's own account of a
// request. Time is when the response was written.
type Entry struct {
	Time    time.Time `json:"time"`
	Backend string    `json:"backend"`
	// Conn numbers the server's connections from 1, in accept order;
	// Remote and Local are that connection's addresses.
	Conn   uint64 `json:"conn"`
	Remote string `json:"remote"`
	Local  string `json:"local"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Step   Step   `json:"step"`
	// Scheme is the Authorization scheme as sent ("NTLM", "Negotiate");
	// SPNEGO is set when the NTLM message was wrapped in SPNEGO.
	Scheme string `json:"scheme,omitempty"`
	SPNEGO bool   `json:"spnego,omitempty"`
	Status int    `json:"status"`
	Result Result `json:"result"`
	// User is DOMAIN\user: the one a Type 3 names, or the one the
	// connection is authenticated as.
	User string `json:"user,omitempty"`
	// ChallengeFrom is, for a Type 3, the server whose Type 2 it answers
	// (MsvAvNbComputerName echoed in its NTLMv2 blob).
	ChallengeFrom string `json:"challenge_from,omitempty"`
	// ConnRequest numbers the requests of the connection from 1.
	ConnRequest int `json:"conn_request"`
}

// logger writes entries as JSON lines, one write at a time.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) write(e *Entry) {
	if l == nil || l.w == nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return // an Entry always marshals
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(append(b, '\n'))
}

// ReadLog parses a request log written by servers (several servers may share
// one log).
func ReadLog(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("ntlmserver: log line %d: %w", n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
