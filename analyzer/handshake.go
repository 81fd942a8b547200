package analyzer

import (
	"strings"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// step locates one message of a handshake.
type step struct {
	frame int64
	time  time.Time
	ok    bool
}

func stepOf(m *reassembly.Message) step {
	return step{frame: m.Frame, time: m.Time, ok: true}
}

// hsFlag records what happened around a handshake: the evidence causes are
// decided from.
type hsFlag uint32

const (
	fClientAskedClose hsFlag = 1 << iota // Connection: close / HTTP/1.0 from the client during the handshake
	fServerSaidClose                     // the Type 2 response ended the connection
	fRestarted                           // a new Type 1 replaced it on the same connection
	fMovedOn                             // the client sent a request without credentials instead of a Type 3
	fNotChallenged                       // the Type 1 was answered without a Type 2
	fResponseLost                        // the Type 1's response was not captured (gap)
	fHintMismatch                        // backend-naming headers of Type 2 and final response differ
	fEchoMismatch                        // the Type 3 echoes another Type 2 than its connection's last
	fInterleaved                         // another handshake interleaved with it (here or upstream)
	fInterleavedHere                     // ... on its own connection
	fPersistOff                          // the final response said Persistent-Auth: false
	fSplit                               // halves on two connections
	fRoutedHere                          // split, and its Type 3 reached a proxy's connection that carried another Type 2 last
)

// handshake is one NTLM handshake as the analyzer keeps it after its
// connection closed: decoded fields and keyed hashes only.
type handshake struct {
	id    int
	proxy bool
	// scheme is "NTLM" or "Negotiate"; spnego tells wrapped NTLM.
	scheme string
	spnego bool

	// conn carries the Type 1/Type 2 (the first half); t3conn the Type 3
	// when the handshake was split (else equal to conn).
	conn, t3conn *connState
	// client is the real client (X-Forwarded-For) or the TCP client IP.
	client string
	// t3client is the real client of the Type 3's request. On a proxy's
	// connection the state machine may pair one client's Type 3 with
	// another client's Type 2; rematching (rematch.go) goes by it.
	t3client string

	open, t1, t2, t3, final step
	t2Status, finalStatus   int
	requests                int // requests of the handshake (bare one, Type 1, Type 3)

	identity string
	idKey    [32]byte
	t2TS     bool
	t2Hash   [32]byte
	hasT2    bool
	t2Hint   string
	// gaps in the client direction when the Type 2 was seen.
	t2ClientGaps int

	user, domain, workstation string
	hasUser                   bool
	resp                      ntlm.ResponseKind
	echoIdentity              string
	echoKey                   [32]byte
	echoTS                    bool
	hasMIC                    bool
	cbNonZero                 bool
	t3Hash                    [32]byte
	hasT3                     bool
	t3ServerGaps              int
	finalHint                 string

	// hereT2 and hereIdentity are the Type 2 that the Type 3's connection
	// carried last before the Type 3, when it was another handshake's
	// (fRoutedHere).
	hereT2       step
	hereIdentity string

	flags                     hsFlag
	authRequests              int
	lastAuthUse               time.Time
	outcome, cause, evid      string
	mergedInto                *handshake // a first half absorbed by its split Type 3
	upstream                  bool       // seen on an upstream connection
	relayOf                   *handshake // the client-leg handshake an upstream one relays
	route                     []RouteStep
	restartedBy               *handshake
	routedDifferently         bool // both legs: Type 2 and Type 3 crossed different upstream connections
	burstChanged, connChanged bool
}

func (h *handshake) has(f hsFlag) bool { return h.flags&f != 0 }

// start is the time of the handshake's first NTLM message.
func (h *handshake) start() time.Time {
	for _, s := range []step{h.t1, h.t2, h.t3, h.final} {
		if s.ok {
			return s.time
		}
	}
	return time.Time{}
}

// end is the time of its last captured step.
func (h *handshake) end() time.Time {
	for _, s := range []step{h.final, h.t3, h.t2, h.t1} {
		if s.ok {
			return s.time
		}
	}
	return time.Time{}
}

// firstFrame is the frame of its first NTLM message.
func (h *handshake) firstFrame() int64 {
	for _, s := range []step{h.t1, h.t2, h.t3, h.final} {
		if s.ok {
			return s.frame
		}
	}
	return 0
}

// durationMs runs from the first NTLM message to the last captured step.
func (h *handshake) durationMs() float64 {
	return float64(h.end().Sub(h.start())) / float64(time.Millisecond)
}

// userName follows the conventions: DOMAIN\user, user@realm (or the bare
// user) when the domain is empty, (anonymous), or (unknown) without a Type 3.
func (h *handshake) userName() string {
	switch {
	case !h.hasUser:
		return "(unknown)"
	case h.resp == ntlm.ResponseAnonymous && h.user == "":
		return "(anonymous)"
	case h.domain == "":
		return h.user
	}
	return h.domain + `\` + h.user
}

// userKey compares user names case-insensitively.
func (h *handshake) userKey() string { return strings.ToLower(h.userName()) }

// failure reports a failed or abandoned handshake (the ones given causes).
func (h *handshake) failure() bool {
	return h.outcome == OutcomeFailed || h.outcome == OutcomeAbandoned
}

// conns lists the handshake's connections (two when split).
func (h *handshake) conns() []*connState {
	if h.t3conn != nil && h.t3conn != h.conn {
		return []*connState{h.conn, h.t3conn}
	}
	return []*connState{h.conn}
}

// frames lists the frames of its captured steps.
func (h *handshake) frames() []int64 {
	var fs []int64
	for _, s := range []step{h.t1, h.t2, h.t3, h.final} {
		if s.ok {
			fs = append(fs, s.frame)
		}
	}
	return fs
}

// setType2 records a Type 2 answer.
func (h *handshake) setType2(m *authMsg, resp *reassembly.Message) {
	h.t2 = stepOf(resp)
	h.t2Status = resp.Status
	h.identity, h.idKey, h.t2TS = m.identity, m.idKey, m.hasTS
	h.t2Hash, h.hasT2 = m.tokenHash, m.hasToken
	h.t2Hint = backendHint(resp)
	h.t2ClientGaps = resp.GapsBefore[reassembly.ClientToServer]
	if wantsClose(resp) {
		h.flags |= fServerSaidClose
	}
	if h.scheme == "" {
		h.scheme, h.spnego = m.scheme, m.spnego
	}
}

// setType3 records a Type 3.
func (h *handshake) setType3(m *authMsg, req *reassembly.Message) {
	h.t3 = stepOf(req)
	h.requests++
	if m.hasFields {
		h.hasUser = true
		h.user, h.domain, h.workstation = m.user, m.domain, m.workstation
		h.resp = m.resp
		h.echoIdentity, h.echoKey, h.echoTS = m.echoIdentity, m.echoKey, m.echoTS
		h.hasMIC, h.cbNonZero = m.hasMIC, m.cbNonZero
	}
	h.t3Hash, h.hasT3 = m.tokenHash, m.hasToken
	h.t3ServerGaps = req.GapsBefore[reassembly.ServerToClient]
	if req.Resynced {
		h.t3ServerGaps++
	}
	if h.scheme == "" || m.scheme == "Negotiate" {
		h.scheme = m.scheme
	}
	h.spnego = h.spnego || m.spnego
}

// setFinal records the response to the Type 3.
func (h *handshake) setFinal(ch channel, resp *reassembly.Message) {
	h.final = stepOf(resp)
	h.finalStatus = resp.Status
	h.finalHint = backendHint(resp)
	if persistentAuthOff(resp) {
		h.flags |= fPersistOff
	}
	if resp.GapsBefore[reassembly.ServerToClient] > h.t3ServerGaps && !h.t2.ok {
		h.t3ServerGaps = resp.GapsBefore[reassembly.ServerToClient]
	}
	if failStatus(ch, resp.Status) {
		h.outcome = OutcomeFailed
	} else {
		h.outcome = OutcomeSucceeded
	}
}

// failStatus reports a status that rejects a Type 3 on the channel: 401 or
// 407 for server auth (a proxy that wants its own credentials first), 407
// for proxy auth (a 401 then comes from the origin: the proxy let it pass).
func failStatus(ch channel, status int) bool {
	if ch == chProxy {
		return status == 407
	}
	return status == 401 || status == 407
}

// responseKindName names a Type 3's response kind ("" without a Type 3).
func (h *handshake) responseKindName() string {
	if !h.hasUser {
		return ""
	}
	return h.resp.String()
}

// moveType3 gives the Type 3 (and what followed it) of h to o, the
// handshake whose Type 2 it echoes; h is left with its Type 1 and Type 2,
// abandoned.
func moveType3(h, o *handshake) {
	o.t3, o.final, o.finalStatus, o.finalHint = h.t3, h.final, h.finalStatus, h.finalHint
	o.user, o.domain, o.workstation, o.hasUser, o.resp = h.user, h.domain, h.workstation, h.hasUser, h.resp
	o.echoIdentity, o.echoKey, o.echoTS = h.echoIdentity, h.echoKey, h.echoTS
	o.hasMIC, o.cbNonZero = h.hasMIC, h.cbNonZero
	o.t3Hash, o.hasT3, o.t3ServerGaps = h.t3Hash, h.hasT3, h.t3ServerGaps
	o.t3client = h.t3client
	o.outcome, o.authRequests, o.lastAuthUse = h.outcome, h.authRequests, h.lastAuthUse
	o.requests++
	o.flags |= h.flags&fPersistOff | fInterleaved | fInterleavedHere
	h.t3, h.final, h.finalStatus, h.finalHint = step{}, step{}, 0, ""
	h.user, h.domain, h.workstation, h.hasUser = "", "", "", false
	h.echoIdentity, h.echoKey, h.echoTS = "", [32]byte{}, false
	h.hasMIC, h.cbNonZero, h.t3Hash, h.hasT3, h.t3ServerGaps = false, false, [32]byte{}, false, 0
	h.authRequests, h.lastAuthUse = 0, time.Time{}
	h.requests--
	h.outcome = OutcomeAbandoned
	h.flags = h.flags&^fPersistOff | fInterleaved | fInterleavedHere
	for ch := range h.conn.ch {
		if h.conn.ch[ch].authed == h {
			h.conn.ch[ch].authed = o
		}
	}
}
