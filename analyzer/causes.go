package analyzer

import "time"

// assignCauses gives every failed or abandoned handshake one cause. A
// relayed (upstream) handshake takes the cause of the client-leg handshake
// it relays.
func (d *diagnosis) assignCauses() {
	for _, h := range d.records {
		if h.failure() && h.relayOf == nil {
			h.setCause(d.causeOf(h))
		}
	}
	for _, h := range d.records {
		if h.failure() && h.relayOf != nil {
			if h.relayOf.causeL != noLabel {
				h.causeL, h.evidL = h.relayOf.causeL, h.relayOf.evidL
			} else {
				h.setCause(d.causeOf(h))
			}
		}
	}
}

// causeOf decides the cause of a failed or abandoned handshake and names
// the evidence. Lost evidence comes first (it can blame no one), then proof
// that the path moved the handshake, then how the handshake was split or
// left, then credentials. A client-side cause on a client that is itself a
// proxy is the path's.
func (d *diagnosis) causeOf(h *handshake) (cause, evidence string) {
	cause, evidence = d.rawCause(h)
	if cause == CauseClient && d.isProxyClient(h) {
		cause = CauseBalancer
	}
	return cause, evidence
}

func (d *diagnosis) rawCause(h *handshake) (string, string) {
	c := h.conn
	if h.evid() == EvidenceChallengeNotCaptured {
		return CauseUnknown, EvidenceChallengeNotCaptured
	}
	if h.outcome() == OutcomeAbandoned {
		switch {
		case h.has(fResponseLost) || (h.t1.ok() && !h.t2.ok() && c.rare().gaps[1] > 0):
			return CauseUnknown, EvidenceResponseNotCaptured
		case h.t2.ok() && c.rare().gaps[0] > h.t2ClientGaps:
			return CauseUnknown, EvidenceType3NotCaptured
		case h.has(fNotChallenged):
			return CauseUnknown, CodeType1NotChallenged
		case unansweredFor(h) >= unansweredWait:
			return CauseUnknown, EvidenceType3Unanswered
		}
	}
	switch {
	case h.has(fInterleaved):
		return CauseBalancer, CodeInterleavedHandshakes
	case routed(h):
		return CauseBalancer, CodeType3RoutedToOtherBackend
	case h.has(fSplit):
		return splitCause(h)
	case h.outcome() == OutcomeFailed && h.cbNonZero && plaintext(h.t3conn):
		return CauseBalancer, CodeEPABehindTLSOffload
	case h.t3.ok() && !h.t2.ok():
		return CauseUnknown, CodeType3WithoutChallenge
	case h.has(fConnChanged) || (h.has(fBurstChanged) && h.outcome() != OutcomeFailed && !clientLeft(h)):
		// A retry burst that met several servers blames the path, but not
		// for a handshake the client itself walked away from: a healthy
		// balancer sends each new connection where it likes, so a user who
		// cancelled a prompt and came back on another backend proves
		// nothing against it. Nor for one whose Type 3 its own
		// connection's server rejected: a wrong password retried on new
		// connections meets a new backend each time just the same (a
		// service account with a stale password through a VIP), so it is
		// judged below, by whether the same user ever gets in.
		return CauseBalancer, CodeChallengeServerChanged
	case d.reauthBefore(h):
		return CauseBalancer, CodeReauthOnAuthenticated
	case len(h.t3conn.rare().shared) > 0:
		return CauseBalancer, CodeAuthenticatedConnShared
	}
	if h.outcome() == OutcomeFailed {
		if d.laterSuccess(h) {
			return CauseBalancer, CodeIntermittentAuthFailure
		}
		return CauseCredentials, CodeAuthFailed
	}
	// Abandoned: who left the handshake? A server side that closed the
	// connection after the Type 2 made the Type 3 impossible; a client that
	// closed it (or asked to), moved on or started over gave up
	// (CLIENT_CLOSED_MID_HANDSHAKE is for splits only: see codes.go).
	switch {
	case h.has(fClientAskedClose):
		return CauseClient, CodeClientAbandonedHandshake
	case h.has(fServerSaidClose):
		return CauseBalancer, CodeConnectionClosedMidHS
	case h.has(fRestarted | fMovedOn):
		return CauseClient, CodeClientAbandonedHandshake
	}
	if sc, cc := c.closeFrame(1), c.closeFrame(0); sc != 0 && (cc == 0 || sc < cc) {
		return CauseBalancer, CodeConnectionClosedMidHS
	}
	return CauseClient, CodeClientAbandonedHandshake
}

// unansweredWait is how long a client must have waited for the answer to
// its Type 3 before closing for the wait to say the server side did not
// answer, rather than that the client walked away: validating a Type 3
// takes the server (and its domain controller) milliseconds, and clients
// time out after seconds.
const unansweredWait = 2 * time.Second

// unansweredFor returns how long the client waited for the answer to its
// Type 3 before it closed the connection first (its FIN or RST), or 0
// (answered, no Type 3, or the server side closed first).
func unansweredFor(h *handshake) time.Duration {
	c := h.t3conn
	if !h.t3.ok() || h.final.ok() {
		return 0
	}
	sc, cc := c.closeFrame(1), c.closeFrame(0)
	if cc == 0 || sc != 0 && sc < cc || c.ext().closeWhen[0] == noTime {
		return 0
	}
	return c.ext().closeWhen[0].time().Sub(h.t3.time())
}

// clientLeft reports whether the client ended an abandoned handshake: it
// asked to close the connection, or closed it before the server did.
func clientLeft(h *handshake) bool {
	if h.outcome() != OutcomeAbandoned {
		return false
	}
	if h.has(fClientAskedClose) {
		return true
	}
	sc, cc := h.conn.closeFrame(1), h.conn.closeFrame(0)
	return cc != 0 && (sc == 0 || cc < sc)
}

// routed reports the proofs that the path moved a handshake
// (TYPE3_ROUTED_TO_OTHER_BACKEND).
func routed(h *handshake) bool {
	return h.has(fRoutedDifferently) || h.has(fEchoMismatch|fHintMismatch|fRoutedHere)
}

// reauthBefore reports a re-authentication demand on the handshake's
// connection before it started, unless the server asked for per-request
// authentication itself (Persistent-Auth: false).
func (d *diagnosis) reauthBefore(h *handshake) bool {
	for _, r := range h.conn.rare().reauths {
		if !r.persist && r.proxy == h.proxy && !r.time.After(h.start()) {
			return true
		}
	}
	return false
}

// laterSuccess reports whether the same user later succeeded from the same
// client (client-leg handshakes).
func (d *diagnosis) laterSuccess(h *handshake) bool {
	if !h.hasUser {
		return false
	}
	if d.lastSuccess == nil {
		d.lastSuccess = map[successKey]time.Time{}
		for _, o := range d.logical {
			if o.outcome() == OutcomeSucceeded && o.hasUser {
				k := successKey{o.userKey(), o.client, o.proxy}
				if s := o.start(); s.After(d.lastSuccess[k]) {
					d.lastSuccess[k] = s
				}
			}
		}
	}
	return d.lastSuccess[successKey{h.userKey(), h.client, h.proxy}].After(h.end())
}

// successKey names a user on a client for laterSuccess.
type successKey struct {
	user, client string
	proxy        bool
}
