package lab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
)

// Truth is what really happened in a scenario run, from the programs' own
// accounts rather than from any capture: the backends' request log and the
// clients' requests. It is kept beside the captures as <scenario>.truth.json.
type Truth struct {
	Scenario string `json:"scenario"`
	// Backends is the request log of every backend, in time order.
	Backends []ntlmserver.Entry `json:"backends"`
	// Clients are the requests every client made, client by client.
	Clients []ClientLeg `json:"clients"`
}

// UserCounts are one user's handshakes as ntlmscope counts them in
// report.users[]: a handshake per Type 3, succeeded when it was answered
// with anything but 401/407, and the requests served without credentials on
// a connection the user had authenticated. The lab's clients answer every
// Type 2, so the truth never has abandoned handshakes; the field is there
// to compare with a report that claims some.
type UserCounts struct {
	User                  string `json:"user"`
	Handshakes            int    `json:"handshakes"`
	Succeeded             int    `json:"succeeded"`
	Failed                int    `json:"failed"`
	Abandoned             int    `json:"abandoned"`
	AuthenticatedRequests int    `json:"authenticated_requests"`
}

// String prints the counts compactly for test messages.
func (u UserCounts) String() string {
	return fmt.Sprintf("%s: %d handshakes (%d ok, %d failed, %d abandoned), %d authenticated requests",
		u.User, u.Handshakes, u.Succeeded, u.Failed, u.Abandoned, u.AuthenticatedRequests)
}

// isAuthFailure reports a status that refuses credentials.
func isAuthFailure(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusProxyAuthRequired
}

// ServerUsers counts each user's handshakes as the backends saw them: what
// the upstream leg carries.
func (t *Truth) ServerUsers() []UserCounts {
	c := counter{}
	for _, e := range t.Backends {
		switch {
		case e.Step == ntlmserver.StepType3:
			c.handshake(e.User, !isAuthFailure(e.Status))
		case e.Result == ntlmserver.ResultSession:
			c.get(e.User).AuthenticatedRequests++
		}
	}
	return c.sorted()
}

// ClientUsers counts each user's handshakes as the clients saw them: what
// the client leg carries. A request without credentials counts as
// authenticated when it was not refused after the user's connection had
// authenticated (proxy authentication is per connection too).
func (t *Truth) ClientUsers() []UserCounts {
	c := counter{}
	// A client connection is authenticated after a successful Type 3.
	// curl's legs have no Local: one invocation keeps one connection.
	authed := map[string]bool{}
	for _, l := range t.Clients {
		key := l.User + " " + l.Local
		switch l.Step {
		case ntlmserver.StepType3:
			ok := !isAuthFailure(l.Status)
			c.handshake(l.User, ok)
			authed[key] = ok
		case ntlmserver.StepNone:
			if isAuthFailure(l.Status) {
				authed[key] = false
			} else if authed[key] {
				c.get(l.User).AuthenticatedRequests++
			}
		}
	}
	return c.sorted()
}

// counter accumulates UserCounts by user.
type counter map[string]*UserCounts

func (c counter) get(user string) *UserCounts {
	u := c[user]
	if u == nil {
		u = &UserCounts{User: user}
		c[user] = u
	}
	return u
}

func (c counter) handshake(user string, ok bool) {
	u := c.get(user)
	u.Handshakes++
	if ok {
		u.Succeeded++
	} else {
		u.Failed++
	}
}

// sorted returns the counts by user name, without users that have none.
func (c counter) sorted() []UserCounts {
	out := []UserCounts{}
	for _, u := range c {
		if u.Handshakes > 0 || u.AuthenticatedRequests > 0 {
			out = append(out, *u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].User < out[j].User })
	return out
}

// Type3Results returns the backends' result for every Type 3, in order.
func (t *Truth) Type3Results() []ntlmserver.Result {
	var out []ntlmserver.Result
	for _, e := range t.Backends {
		if e.Step == ntlmserver.StepType3 {
			out = append(out, e.Result)
		}
	}
	return out
}

// WriteFile saves the truth as indented JSON.
func (t *Truth) WriteFile(path string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadTruth loads a truth saved by WriteFile.
func ReadTruth(path string) (*Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("lab: %s: %w", path, err)
	}
	return &t, nil
}
