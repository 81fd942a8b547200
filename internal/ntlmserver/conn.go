package ntlmserver

import (
	"context"
	"net"
	"sync"
	"time"
)

// connState is what the server knows about one TCP connection: IIS keeps
// an NTLM security context per connection, and so does this server.
type connState struct {
	id            uint64
	remote, local string

	// mu serialises requests; HTTP/1.1 serves one at a time anyway.
	mu sync.Mutex
	// pending is the challenge issued on this connection and not yet
	// answered; nil when none is pending. A Type 3 consumes it whatever
	// the outcome.
	pending *pendingChallenge
	// user is the account the connection is authenticated as, "" when
	// it is not.
	user string
	// requests counts the connection's requests.
	requests int
}

// pendingChallenge is a Type 2 this connection sent.
type pendingChallenge struct {
	serverChallenge []byte
	// timestamp is the MsvAvTimestamp sent, at FILETIME precision, so
	// that it compares equal to the copy a Type 3 echoes.
	timestamp time.Time
}

type connKey struct{}

// connContext attaches a new connState to the context of every request
// the connection serves (http.Server.ConnContext).
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	cs := &connState{
		id:     s.connSeq.Add(1),
		remote: c.RemoteAddr().String(),
		local:  c.LocalAddr().String(),
	}
	return context.WithValue(ctx, connKey{}, cs)
}

// connFrom returns the connState of the request's connection. A request
// not served by this server's listener (a test calling ServeHTTP directly)
// gets a fresh state of its own.
func connFrom(ctx context.Context) *connState {
	if cs, ok := ctx.Value(connKey{}).(*connState); ok {
		return cs
	}
	return &connState{}
}
