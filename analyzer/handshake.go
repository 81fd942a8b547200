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
	at    nanotime
	ok    bool
}

func stepOf(m *reassembly.Message) step {
	return step{frame: m.Frame, at: nanoOf(m.Time), ok: true}
}

// time is the step's capture time (zero when not seen).
func (s step) time() time.Time {
	if !s.ok {
		return time.Time{}
	}
	return s.at.time()
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
// connection closed: decoded fields and keyed hashes only. Fields are laid
// out for size (about 470 bytes: the analyzer keeps one per handshake of
// the capture); what few handshakes have lives in notes.
type handshake struct {
	// conn carries the Type 1/Type 2 (the first half); t3conn the Type 3
	// when the handshake was split (else equal to conn).
	conn, t3conn *connState
	mergedInto   *handshake // a first half absorbed by its split Type 3
	relayOf      *handshake // the client-leg handshake an upstream one relays
	notes        *hsNotes

	// scheme is "NTLM" or "Negotiate"; spnego tells wrapped NTLM.
	scheme string
	// client is the real client (X-Forwarded-For) or the TCP client IP.
	client string
	// t3client is the real client of the Type 3's request. On a proxy's
	// connection the state machine may pair one client's Type 3 with
	// another client's Type 2; rematching (rematch.go) goes by it.
	t3client string
	// identity is the Type 2's server identity; echoIdentity the one the
	// Type 3 echoes.
	identity, echoIdentity    string
	user, domain, workstation string
	outcome, cause, evid      string

	open, t1, t2, t3, final step

	idKey, t2Hash, echoKey, t3Hash digest

	lastAuthUse nanotime
	id          int

	finalStatus int32
	requests    int32 // requests of the handshake (bare one, Type 1, Type 3)
	// t2ClientGaps counts the gaps in the client direction when the Type 2
	// was seen; t3ServerGaps those in the server direction before the
	// Type 3.
	t2ClientGaps, t3ServerGaps int32
	authRequests               int32
	flags                      hsFlag
	resp                       ntlm.ResponseKind

	proxy, spnego             bool
	t2TS, hasT2               bool
	hasUser, echoTS, hasT3    bool
	hasMIC, cbNonZero         bool
	upstream                  bool // seen on an upstream connection
	routedDifferently         bool // both legs: Type 2 and Type 3 crossed different upstream connections
	burstChanged, connChanged bool
}

// hsNotes holds what only some handshakes have.
type hsNotes struct {
	// t2Hint and finalHint are the backend-naming headers of the Type 2
	// and of the final response.
	t2Hint, finalHint string
	// hereT2 and hereIdentity are the Type 2 that the Type 3's connection
	// carried last before the Type 3, when it was another handshake's
	// (fRoutedHere).
	hereT2       step
	hereIdentity string
	// route says where each step of a relayed handshake went.
	route []RouteStep
}

// noNotes stands for missing notes when reading; never written.
var noNotes hsNotes

// note returns the handshake's notes for reading.
func (h *handshake) note() *hsNotes {
	if h.notes == nil {
		return &noNotes
	}
	return h.notes
}

// notesRW returns the handshake's notes for writing, allocating them.
func (h *handshake) notesRW() *hsNotes {
	if h.notes == nil {
		h.notes = &hsNotes{}
	}
	return h.notes
}

// setHints records the backend-naming headers of the Type 2 and the final
// response (moving them between handshakes).
func (h *handshake) setHints(t2, final string) {
	if h.notes != nil || t2 != "" || final != "" {
		n := h.notesRW()
		n.t2Hint, n.finalHint = t2, final
	}
}

// hintsDiffer reports backend-naming headers that name one backend on the
// Type 2 and another on the final response.
func (h *handshake) hintsDiffer() bool {
	n := h.note()
	return n.t2Hint != "" && n.finalHint != "" && n.t2Hint != n.finalHint
}

func (h *handshake) has(f hsFlag) bool { return h.flags&f != 0 }

// start is the time of the handshake's first NTLM message.
func (h *handshake) start() time.Time { return h.startAt().time() }

// startAt is start as a nanotime (cheap to compare).
func (h *handshake) startAt() nanotime {
	switch {
	case h.t1.ok:
		return h.t1.at
	case h.t2.ok:
		return h.t2.at
	case h.t3.ok:
		return h.t3.at
	case h.final.ok:
		return h.final.at
	}
	return noTime
}

// end is the time of its last captured step.
func (h *handshake) end() time.Time {
	switch {
	case h.final.ok:
		return h.final.time()
	case h.t3.ok:
		return h.t3.time()
	case h.t2.ok:
		return h.t2.time()
	case h.t1.ok:
		return h.t1.time()
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
func (h *handshake) setType2(in *interner, m *authMsg, resp *reassembly.Message, hd *msgHeaders) {
	h.t2 = stepOf(resp)
	h.identity, h.idKey, h.t2TS = in.str(m.identity), m.idKey, m.hasTS
	h.t2Hash, h.hasT2 = m.tokenHash, m.hasToken
	h.setHints(in.str(backendHint(hd)), h.note().finalHint)
	h.t2ClientGaps = int32(resp.GapsBefore[reassembly.ClientToServer])
	if wantsClose(resp, hd) {
		h.flags |= fServerSaidClose
	}
	if h.scheme == "" {
		h.scheme, h.spnego = m.scheme, m.spnego
	}
}

// setType3 records a Type 3.
func (h *handshake) setType3(in *interner, m *authMsg, req *reassembly.Message) {
	h.t3 = stepOf(req)
	h.requests++
	if m.hasFields {
		h.hasUser = true
		h.user, h.domain, h.workstation = in.str(m.user), in.str(m.domain), in.str(m.workstation)
		h.resp = m.resp
		h.echoIdentity, h.echoKey, h.echoTS = in.str(m.echoIdentity), m.echoKey, m.echoTS
		h.hasMIC, h.cbNonZero = m.hasMIC, m.cbNonZero
	}
	h.t3Hash, h.hasT3 = m.tokenHash, m.hasToken
	h.t3ServerGaps = int32(req.GapsBefore[reassembly.ServerToClient])
	if req.Resynced {
		h.t3ServerGaps++
	}
	if h.scheme == "" || m.scheme == "Negotiate" {
		h.scheme = m.scheme
	}
	h.spnego = h.spnego || m.spnego
}

// setFinal records the response to the Type 3.
func (h *handshake) setFinal(in *interner, ch channel, resp *reassembly.Message, hd *msgHeaders) {
	h.final = stepOf(resp)
	h.finalStatus = int32(resp.Status)
	h.setHints(h.note().t2Hint, in.str(backendHint(hd)))
	if persistentAuthOff(hd) {
		h.flags |= fPersistOff
	}
	if g := int32(resp.GapsBefore[reassembly.ServerToClient]); g > h.t3ServerGaps && !h.t2.ok {
		h.t3ServerGaps = g
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
	o.t3, o.final, o.finalStatus = h.t3, h.final, h.finalStatus
	o.setHints(o.note().t2Hint, h.note().finalHint)
	o.user, o.domain, o.workstation, o.hasUser, o.resp = h.user, h.domain, h.workstation, h.hasUser, h.resp
	o.echoIdentity, o.echoKey, o.echoTS = h.echoIdentity, h.echoKey, h.echoTS
	o.hasMIC, o.cbNonZero = h.hasMIC, h.cbNonZero
	o.t3Hash, o.hasT3, o.t3ServerGaps = h.t3Hash, h.hasT3, h.t3ServerGaps
	o.t3client = h.t3client
	o.outcome, o.authRequests, o.lastAuthUse = h.outcome, h.authRequests, h.lastAuthUse
	o.requests++
	o.flags |= h.flags&fPersistOff | fInterleaved | fInterleavedHere
	h.t3, h.final, h.finalStatus = step{}, step{}, 0
	h.setHints(h.note().t2Hint, "")
	h.user, h.domain, h.workstation, h.hasUser = "", "", "", false
	h.echoIdentity, h.echoKey, h.echoTS = "", digest{}, false
	h.hasMIC, h.cbNonZero, h.t3Hash, h.hasT3, h.t3ServerGaps = false, false, digest{}, false, 0
	h.authRequests, h.lastAuthUse = 0, noTime
	h.requests--
	h.outcome = OutcomeAbandoned
	h.flags = h.flags&^fPersistOff | fInterleaved | fInterleavedHere
}
