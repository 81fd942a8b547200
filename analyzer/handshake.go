package analyzer

import (
	"strings"
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
	"github.com/ntlmscope/ntlmscope/reassembly"
)

// step locates one message of a handshake: 16 bytes, since a handshake
// keeps five of them.
type step struct {
	// f is the message's frame plus one; 0 means the step was not seen
	// (so that the zero step is "not seen" even for a frame 0).
	f  int64
	at nanotime
}

func stepOf(m *reassembly.Message) step {
	return step{f: m.Frame + 1, at: nanoOf(m.Time)}
}

// ok reports whether the step was seen.
func (s step) ok() bool { return s.f != 0 }

// frame is the step's frame (0 when not seen).
func (s step) frame() int64 {
	if s.f == 0 {
		return 0
	}
	return s.f - 1
}

// time is the step's capture time (zero when not seen).
func (s step) time() time.Time {
	if s.f == 0 {
		return time.Time{}
	}
	return s.at.time()
}

// hsFlag records what happened around a handshake: the evidence causes are
// decided from.
type hsFlag uint32

const (
	fClientAskedClose  hsFlag = 1 << iota // Connection: close / HTTP/1.0 from the client during the handshake
	fServerSaidClose                      // the Type 2 response ended the connection
	fRestarted                            // a new Type 1 replaced it on the same connection
	fMovedOn                              // the client sent a request without credentials instead of a Type 3
	fNotChallenged                        // the Type 1 was answered without a Type 2
	fResponseLost                         // the Type 1's response was not captured (gap)
	fHintMismatch                         // backend-naming headers of Type 2 and final response differ
	fEchoMismatch                         // the Type 3 echoes another Type 2 than its connection's last
	fInterleaved                          // another handshake interleaved with it (here or upstream)
	fInterleavedHere                      // ... on its own connection
	fPersistOff                           // the final response said Persistent-Auth: false
	fSplit                                // halves on two connections
	fRoutedHere                           // split, and its Type 3 reached a proxy's connection that carried another Type 2 last
	fUpstream                             // seen on an upstream connection (set in Finish)
	fRoutedDifferently                    // both legs: Type 2 and Type 3 crossed different upstream connections
	fBurstChanged                         // a retry burst it belongs to met several server identities
	fConnChanged                          // its client connection met several server identities
	fT3Resynced                           // the Type 3's request came after a client-side resync (t3ServerGaps counts one more)
)

// handshake is one NTLM handshake as the analyzer keeps it after its
// connection closed: decoded fields and keyed hashes only. Fields are laid
// out for size (288 bytes: the analyzer keeps one per handshake of the
// capture): what a Type 3 names is shared with the handshakes that name the
// same (t3Names), outcomes and causes are one byte each, and what few
// handshakes have lives in notes.
type handshake struct {
	// conn carries the Type 1/Type 2 (the first half); t3conn the Type 3
	// when the handshake was split (else equal to conn).
	conn, t3conn *connState
	mergedInto   *handshake // a first half absorbed by its split Type 3
	relayOf      *handshake // the client-leg handshake an upstream one relays
	notes        *hsNotes
	// names is what the Type 3 says (nil without a readable Type 3:
	// hasUser is then false).
	names *t3Names

	// client is the real client (X-Forwarded-For) or the TCP client IP.
	client string
	// t3client is the real client of the Type 3's request. On a proxy's
	// connection the state machine may pair one client's Type 3 with
	// another client's Type 2; rematching (rematch.go) goes by it.
	t3client string
	// identity is the Type 2's server identity (the one the Type 3
	// echoes is in names).
	identity string

	open, t1, t2, t3, final step

	idKey, t2Hash, echoKey, t3Hash digest

	lastAuthUse nanotime
	id          int32

	requests int32 // requests of the handshake (bare one, Type 1, Type 3)
	// t2ClientGaps counts the gaps in the client direction when the Type 2
	// was seen; t3ServerGaps those in the server direction before the
	// Type 3.
	t2ClientGaps, t3ServerGaps int32
	authRequests               int32
	flags                      hsFlag
	finalStatus                int16

	scheme          authScheme
	outcomeL        label // an Outcome* constant, or none yet
	causeL, evidL   label // a Cause* constant and the evidence code
	proxy, spnego   bool
	t2TS, hasT2     bool
	hasUser, echoTS bool
	hasT3, hasMIC   bool
	cbNonZero       bool
	// sentAgain says its Type 3 was sent again after the first copy went
	// unanswered (notes.firstT3). A field of its own, not a flag: set by
	// linkSplits, it is read by the aggregates' goroutine while later
	// steps of the diagnosis write flags.
	sentAgain bool
}

// root returns the handshake h was merged into (a first half absorbed by
// its split Type 3), following the chain, or h itself.
func (h *handshake) root() *handshake {
	for h.mergedInto != nil {
		h = h.mergedInto
	}
	return h
}

// t3Names is what a Type 3 names, shared by every handshake whose Type 3
// names the same (interned: users, workstations and the servers they
// answer repeat), with the user's name as the report writes it.
type t3Names struct {
	user, domain, workstation string
	// echoIdentity is the server identity the Type 3 echoes.
	echoIdentity string
	resp         ntlm.ResponseKind
	// name is the user as the conventions write it, key its lower case.
	name, key string
}

// t3Key is what a t3Names is interned by.
type t3Key struct {
	user, domain, workstation, echoIdentity string
	resp                                    ntlm.ResponseKind
}

// anonymousName is the user an anonymous Type 3 (no user, anonymous
// response) is reported as.
const anonymousName = "(anonymous)"

// newT3Names builds the shared form of k (its strings already interned).
func newT3Names(k t3Key) *t3Names {
	n := &t3Names{user: k.user, domain: k.domain, workstation: k.workstation, echoIdentity: k.echoIdentity, resp: k.resp}
	switch {
	case k.resp == ntlm.ResponseAnonymous && k.user == "":
		n.name = anonymousName
	case k.domain == "":
		n.name = k.user
	default:
		n.name = k.domain + `\` + k.user
	}
	n.key = strings.ToLower(n.name)
	return n
}

// noNames stands for missing names when reading; never written.
var noNames t3Names

// t3n returns what the Type 3 names (empty without one).
func (h *handshake) t3n() *t3Names {
	if h.names == nil {
		return &noNames
	}
	return h.names
}

// What the Type 3 names ("" and ResponseUnknown without one).
func (h *handshake) user() string            { return h.t3n().user }
func (h *handshake) domain() string          { return h.t3n().domain }
func (h *handshake) workstation() string     { return h.t3n().workstation }
func (h *handshake) echoIdentity() string    { return h.t3n().echoIdentity }
func (h *handshake) resp() ntlm.ResponseKind { return h.t3n().resp }

// The outcome, cause and evidence as the report names them ("" when not
// decided).
func (h *handshake) outcome() string      { return h.outcomeL.String() }
func (h *handshake) cause() string        { return h.causeL.String() }
func (h *handshake) evid() string         { return h.evidL.String() }
func (h *handshake) setEvid(e string)     { h.evidL = labelOf(e) }
func (h *handshake) setCause(c, e string) { h.causeL, h.evidL = labelOf(c), labelOf(e) }

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
	// firstT3 and firstT3Conn are the Type 3 that went unanswered before
	// the same one was sent again on another connection (sentAgain).
	firstT3     step
	firstT3Conn *connState
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
	case h.t1.ok():
		return h.t1.at
	case h.t2.ok():
		return h.t2.at
	case h.t3.ok():
		return h.t3.at
	case h.final.ok():
		return h.final.at
	}
	return noTime
}

// end is the time of its last captured step.
func (h *handshake) end() time.Time {
	switch {
	case h.final.ok():
		return h.final.time()
	case h.t3.ok():
		return h.t3.time()
	case h.t2.ok():
		return h.t2.time()
	case h.t1.ok():
		return h.t1.time()
	}
	return time.Time{}
}

// firstFrame is the frame of its first NTLM message.
func (h *handshake) firstFrame() int64 {
	for _, s := range []step{h.t1, h.t2, h.t3, h.final} {
		if s.ok() {
			return s.frame()
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
	if !h.hasUser {
		return "(unknown)"
	}
	return h.names.name
}

// userKey compares user names case-insensitively.
func (h *handshake) userKey() string {
	if !h.hasUser {
		return "(unknown)"
	}
	return h.names.key
}

// failure reports a failed or abandoned handshake (the ones given causes).
func (h *handshake) failure() bool {
	return h.outcomeL == labelFailed || h.outcomeL == labelAbandoned
}

// conns lists the handshake's connections (two when split; three when its
// Type 3 was sent again from a connection of its own).
func (h *handshake) conns() []*connState {
	cs := []*connState{h.conn}
	if h.sentAgain {
		if c := h.note().firstT3Conn; c != h.conn {
			cs = append(cs, c)
		}
	}
	if h.t3conn != nil && h.t3conn != h.conn {
		cs = append(cs, h.t3conn)
	}
	return cs
}

// appendFrameRefs appends the frames of h's captured steps, the first
// copy of a Type 3 sent again included, each with its connection's
// capture.
func (h *handshake) appendFrameRefs(refs []frameRef) []frameRef {
	if h.t1.ok() {
		refs = append(refs, frameOn(h.conn, h.t1.frame()))
	}
	if h.t2.ok() {
		refs = append(refs, frameOn(h.conn, h.t2.frame()))
	}
	if h.sentAgain {
		if n := h.note(); n.firstT3.ok() && n.firstT3Conn != nil {
			refs = append(refs, frameOn(n.firstT3Conn, n.firstT3.frame()))
		}
	}
	for _, s := range []step{h.t3, h.final} {
		if s.ok() {
			refs = append(refs, frameOn(h.t3conn, s.frame()))
		}
	}
	return refs
}

// setType2 records a Type 2 answer.
func (h *handshake) setType2(in *internCache, m *authMsg, resp *reassembly.Message, hd *msgHeaders) {
	h.t2 = stepOf(resp)
	h.identity, h.idKey, h.t2TS = in.str(m.identity), m.idKey, m.hasTS
	h.t2Hash, h.hasT2 = m.tokenHash, m.hasToken
	h.setHints(in.str(backendHint(hd)), h.note().finalHint)
	h.t2ClientGaps = int32(resp.GapsBefore[reassembly.ClientToServer])
	if wantsClose(resp, hd) {
		h.flags |= fServerSaidClose
	}
	if h.scheme == schemeNone {
		h.scheme, h.spnego = m.scheme, m.spnego
	}
}

// setType3 records a Type 3.
func (h *handshake) setType3(in *internCache, m *authMsg, req *reassembly.Message) {
	h.t3 = stepOf(req)
	h.requests++
	if m.hasFields {
		h.hasUser = true
		h.names = in.t3Names(t3Key{m.user, m.domain, m.workstation, m.echoIdentity, m.resp})
		h.echoKey, h.echoTS = m.echoKey, m.echoTS
		h.hasMIC, h.cbNonZero = m.hasMIC, m.cbNonZero
	}
	h.t3Hash, h.hasT3 = m.tokenHash, m.hasToken
	h.t3ServerGaps = int32(req.GapsBefore[reassembly.ServerToClient])
	h.flags &^= fT3Resynced
	if req.Resynced {
		h.t3ServerGaps++
		h.flags |= fT3Resynced
	}
	if h.scheme == schemeNone || m.scheme == schemeNegotiate {
		h.scheme = m.scheme
	}
	h.spnego = h.spnego || m.spnego
}

// serverGapsAtT3 is the count of gaps in the server's direction when the
// Type 3 was sent (t3ServerGaps without the one a resync adds).
func (h *handshake) serverGapsAtT3() int32 {
	if h.has(fT3Resynced) {
		return h.t3ServerGaps - 1
	}
	return h.t3ServerGaps
}

// setFinal records the response to the Type 3.
func (h *handshake) setFinal(in *internCache, ch channel, resp *reassembly.Message, hd *msgHeaders) {
	h.final = stepOf(resp)
	h.finalStatus = int16(resp.Status)
	h.setHints(h.note().t2Hint, in.str(backendHint(hd)))
	if persistentAuthOff(hd) {
		h.flags |= fPersistOff
	}
	if g := int32(resp.GapsBefore[reassembly.ServerToClient]); g > h.t3ServerGaps && !h.t2.ok() {
		h.t3ServerGaps = g
	}
	if failStatus(ch, resp.Status) {
		h.outcomeL = labelFailed
	} else {
		h.outcomeL = labelSucceeded
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
	return h.resp().String()
}

// moveType3 gives the Type 3 (and what followed it) of h to o, the
// handshake whose Type 2 it echoes; h is left with its Type 1 and Type 2,
// abandoned.
func moveType3(h, o *handshake) {
	o.t3, o.final, o.finalStatus = h.t3, h.final, h.finalStatus
	o.setHints(o.note().t2Hint, h.note().finalHint)
	o.names, o.hasUser = h.names, h.hasUser
	o.echoKey, o.echoTS = h.echoKey, h.echoTS
	o.hasMIC, o.cbNonZero = h.hasMIC, h.cbNonZero
	o.t3Hash, o.hasT3, o.t3ServerGaps = h.t3Hash, h.hasT3, h.t3ServerGaps
	o.t3client = h.t3client
	o.outcomeL, o.authRequests, o.lastAuthUse = h.outcomeL, h.authRequests, h.lastAuthUse
	o.requests++
	o.flags |= h.flags&fPersistOff | fInterleaved | fInterleavedHere
	h.t3, h.final, h.finalStatus = step{}, step{}, 0
	h.setHints(h.note().t2Hint, "")
	h.names, h.hasUser = nil, false
	h.echoKey, h.echoTS = digest{}, false
	h.hasMIC, h.cbNonZero, h.t3Hash, h.hasT3, h.t3ServerGaps = false, false, digest{}, false, 0
	h.authRequests, h.lastAuthUse = 0, noTime
	h.requests--
	h.outcomeL = labelAbandoned
	h.flags = h.flags&^fPersistOff | fInterleaved | fInterleavedHere
}
