package analyzer

// This file is the one place where finding codes, verdict codes, outcomes
// and causes are defined and explained. Renderers and documentation read
// [Codes]; the analyzer never invents a code elsewhere.

// Severity levels of findings, least to most serious.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityError    = "error"
	SeverityCritical = "critical"
)

// Finding codes. See [Codes] for each one's severity and meaning.
const (
	CodeHandshakeRestarted        = "HANDSHAKE_RESTARTED"
	CodeType3WithoutChallenge     = "TYPE3_WITHOUT_CHALLENGE"
	CodeConnectionClosedMidHS     = "CONNECTION_CLOSED_MID_HANDSHAKE"
	CodeClientClosedMidHS         = "CLIENT_CLOSED_MID_HANDSHAKE"
	CodeClientAbandonedHandshake  = "CLIENT_ABANDONED_HANDSHAKE"
	CodeReauthOnAuthenticated     = "REAUTH_ON_AUTHENTICATED_CONNECTION"
	CodeChallengeServerChanged    = "CHALLENGE_SERVER_CHANGED"
	CodeType3RoutedToOtherBackend = "TYPE3_ROUTED_TO_OTHER_BACKEND"
	CodeAuthenticatedConnShared   = "AUTHENTICATED_CONNECTION_SHARED"
	CodeInterleavedHandshakes     = "INTERLEAVED_HANDSHAKES"
	CodeAuthFailed                = "AUTH_FAILED"
	CodeEPABehindTLSOffload       = "EPA_BEHIND_TLS_OFFLOAD"
	CodeNegotiateFellBackToNTLM   = "NEGOTIATE_FELL_BACK_TO_NTLM"
	CodeHandshakePerRequest       = "HANDSHAKE_PER_REQUEST"
	CodeNTLMv1InUse               = "NTLMV1_IN_USE"
	CodeAnonymousNTLM             = "ANONYMOUS_NTLM"
	CodeNoMIC                     = "NO_MIC"
	CodeChallengeNotCaptured      = "CHALLENGE_NOT_CAPTURED"
	CodeType1NotChallenged        = "TYPE1_NOT_CHALLENGED"
	CodeClientIsProxy             = "CLIENT_IS_PROXY"
	CodeKerberosInUse             = "KERBEROS_IN_USE"
	CodeIntermittentAuthFailure   = "INTERMITTENT_AUTH_FAILURE"
)

// CodeInfo describes one finding code.
type CodeInfo struct {
	// Severity is the code's default severity.
	Severity string
	// Title is a short human name.
	Title string
	// Description says what the code means and what it implies.
	Description string
}

// Codes maps every finding code to its severity, title and meaning.
var Codes = map[string]CodeInfo{
	CodeHandshakeRestarted: {SeverityWarning, "Handshake restarted",
		"A handshake failed or was abandoned and the same client started a new one, on the same " +
			"connection or on a new one within the restart window (--restart-window): the repeated " +
			"401/401 pattern users see as password prompts or slow logins."},
	CodeType3WithoutChallenge: {SeverityWarning, "Type 3 without challenge",
		"A Type 3 arrived on a connection that never carried a Type 2 and had no gap that could hide " +
			"one: the handshake was split across connections. NTLM authenticates a connection, so the " +
			"server that receives such a Type 3 cannot verify it. Reported with its cause when the " +
			"capture shows it."},
	CodeConnectionClosedMidHS: {SeverityError, "Server side closed mid-handshake",
		"The server side (server or balancer) closed the connection (FIN, RST or Connection: close) " +
			"after sending the Type 2 and before the Type 3 could follow on it, or closed it on the Type 3 " +
			"without answering. Reported with TYPE3_WITHOUT_CHALLENGE when the client sent its Type 3 on " +
			"another connection, and alone (an abandoned handshake, cause balancer) when it did not: either " +
			"way the server side broke the handshake on the connection that owns the challenge."},
	CodeClientClosedMidHS: {SeverityError, "Client closed mid-handshake",
		"A split handshake's cause (always reported with TYPE3_WITHOUT_CHALLENGE): the client sent " +
			"Connection: close (or spoke HTTP/1.0 without keep-alive) during the handshake, closed the " +
			"connection after the Type 2, or opened a new connection for the Type 3 while the old one was " +
			"still open: a client-side fault, not the balancer's (unless the \"client\" is itself a " +
			"proxy). A client that closes after the Type 2 and sends no Type 3 anywhere is " +
			"CLIENT_ABANDONED_HANDSHAKE instead: nothing was split."},
	CodeClientAbandonedHandshake: {SeverityWarning, "Client abandoned handshake",
		"The client received a Type 2 and sent no Type 3 anywhere: it moved on to other requests, " +
			"started over, closed the connection (or asked to), or went quiet (a cancelled credential " +
			"prompt, a client that cannot use the challenge); or it sent the Type 3 and closed the " +
			"connection before any answer. The handshake is abandoned with cause client (balancer when " +
			"the client is itself a proxy), except when the client waited 2 s or more for the answer to " +
			"its Type 3: then the server side did not answer, and the cause is unknown (evidence " +
			"type3_unanswered)."},
	CodeReauthOnAuthenticated: {SeverityWarning, "Re-authentication on an authenticated connection",
		"A request on an already authenticated connection was answered 401/407 asking for NTLM " +
			"again: a different backend now serves the client's connection (the balancer re-routed " +
			"it), or the server authenticates every request by design (IIS authPersistSingleRequest, " +
			"Persistent-Auth: false, or a Via header that makes IIS treat the client as a proxy)."},
	CodeChallengeServerChanged: {SeverityError, "Challenges from different servers",
		"The Type 2 messages one client connection (or one client's retry burst) received came from " +
			"different server identities: the balancer sends that client's requests to different " +
			"backends, so a Type 3 often reaches a backend that never issued its challenge."},
	CodeType3RoutedToOtherBackend: {SeverityError, "Type 3 routed to another backend",
		"A Type 3 reached a backend connection whose last Type 2 came from a different server " +
			"identity or carried a different timestamp than the one the Type 3 answers, or (both legs " +
			"captured) the Type 2 and the Type 3 came over one client connection but crossed different " +
			"upstream connections, or a Type 3 echoing another connection's Type 2 reached a proxy's " +
			"connection that had carried another Type 2 last, or the backend-naming headers (X-Server, " +
			"X-BEServer…) of the Type 2 and the final response differ: proof that the balancer moved the " +
			"handshake. (A client that sends its Type 1 and Type 3 on connections of its own that each " +
			"reach one backend connection splits the handshake itself: CLIENT_CLOSED_MID_HANDSHAKE.)"},
	CodeAuthenticatedConnShared: {SeverityCritical, "Authenticated connection shared",
		"An upstream connection authenticated as one user carried requests of another client " +
			"connection or client: those requests ran with the first user's identity (identity " +
			"leakage). Never multiplex NTLM-authenticated upstream connections."},
	CodeInterleavedHandshakes: {SeverityError, "Interleaved handshakes",
		"Handshakes of two client connections interleaved on one upstream connection: the balancer " +
			"multiplexes NTLM handshakes, so each Type 3 meets the other client's challenge."},
	CodeAuthFailed: {SeverityWarning, "Authentication failed",
		"A handshake failed with no sign of the path (same server identity, no split, nothing " +
			"re-routed, no later success of the same user from the same client): most likely a wrong " +
			"password or an account problem (locked, expired, not allowed). A capture shows the same " +
			"user, never the same password."},
	CodeIntermittentAuthFailure: {SeverityWarning, "Intermittent authentication failure",
		"A handshake failed although nothing in it looks wrong, and the same user later succeeded from " +
			"the same client: the same credentials both fail and work, the mark of a path that sometimes " +
			"delivers the Type 3 to a backend that did not issue the challenge (a password retyped after " +
			"a typo looks the same: check whether a person typed it)."},
	CodeEPABehindTLSOffload: {SeverityError, "Extended Protection behind TLS offload",
		"A Type 3 carries non-zero channel bindings (the client bound it to a TLS channel) but " +
			"reached the server over plaintext HTTP: a balancer terminates TLS, and a server that " +
			"enforces Extended Protection for Authentication rejects it."},
	CodeNegotiateFellBackToNTLM: {SeverityInfo, "Negotiate fell back to NTLM",
		"The server offered Negotiate and the client used NTLM inside it: usually no Kerberos SPN " +
			"is registered for the name the client used (often the balancer's virtual name)."},
	CodeHandshakePerRequest: {SeverityWarning, "Handshake per request",
		"A client authenticates anew for most requests instead of reusing an authenticated " +
			"connection: two extra round trips per request (connections closed after each request, " +
			"keep-alive off somewhere on the path, or a client that authenticates every POST anew)."},
	CodeNTLMv1InUse: {SeverityWarning, "NTLMv1 in use",
		"Type 3 messages carry LM or NTLMv1 responses, which can be cracked offline: raise " +
			"LmCompatibilityLevel to send NTLMv2 only."},
	CodeAnonymousNTLM: {SeverityInfo, "Anonymous NTLM",
		"Type 3 messages authenticate anonymously (empty user and response)."},
	CodeNoMIC: {SeverityInfo, "No MIC",
		"NTLMv2 Type 3 messages carry no message integrity code: the handshake could be tampered " +
			"with (relay protections weaker)."},
	CodeChallengeNotCaptured: {SeverityInfo, "Challenge not captured",
		"A Type 3 answers a Type 2 the capture did not record (a gap in the server's direction, or " +
			"the capture started after the connection opened): lost evidence, never counted as a " +
			"split nor blamed on anyone."},
	CodeType1NotChallenged: {SeverityWarning, "Type 1 not challenged",
		"A Type 1 was answered without a Type 2 (a bare 401/407 or a final status): the server did " +
			"not continue the handshake (NTLM disabled, or the header did not reach it)."},
	CodeClientIsProxy: {SeverityInfo, "Client is a proxy",
		"A client address adds Via/X-Forwarded-For/Forwarded, or carries several users' handshakes on one " +
			"connection or to several servers (not a terminal server's users on their own connections): " +
			"it is itself a proxy or balancer, so faults on its side are the path's."},
	CodeKerberosInUse: {SeverityInfo, "Kerberos in use",
		"Clients authenticated with Kerberos (under Negotiate or the Kerberos scheme); those " +
			"exchanges are counted apart and never analysed as NTLM."},
}

// Verdict codes.
const (
	VerdictNoNTLM       = "no-ntlm"
	VerdictHealthy      = "healthy"
	VerdictBalancer     = "balancer-breaks-ntlm"
	VerdictClient       = "client-breaks-ntlm"
	VerdictCredentials  = "credential-failures"
	VerdictMixed        = "mixed"
	VerdictInconclusive = "inconclusive"
)

// VerdictTitles gives each verdict code its one-line title.
var VerdictTitles = map[string]string{
	VerdictNoNTLM:       "No NTLM authentication in the capture",
	VerdictHealthy:      "NTLM works",
	VerdictBalancer:     "The load balancer (or proxy) breaks NTLM",
	VerdictClient:       "The client breaks NTLM",
	VerdictCredentials:  "Logins fail on credentials",
	VerdictMixed:        "Several causes of NTLM failures",
	VerdictInconclusive: "Inconclusive: the capture lost the evidence",
}

// Titles of inconclusive verdicts whose capture lost nothing, or lost
// something else than the evidence of failures (see diagnosis.verdict).
const (
	titleRefused    = "Inconclusive: NTLM was refused before any challenge"
	titleUnanswered = "Inconclusive: the server side left logins unanswered"
	titleTLS        = "Inconclusive: any NTLM is inside TLS the capture cannot read"
	titleCut        = "Inconclusive: the capture cut its packets short"
	titleCutAndTLS  = "Inconclusive: the capture cut its packets short and cannot read inside TLS"
	// titleHealthyTLS: healthy, but most connections were TLS without keys.
	titleHealthyTLS = "NTLM works in the traffic the capture could read"
)

// Handshake outcomes.
const (
	// OutcomeSucceeded: the Type 3 was answered with anything but 401/407.
	OutcomeSucceeded = "succeeded"
	// OutcomeFailed: the Type 3 was answered 401/407.
	OutcomeFailed = "failed"
	// OutcomeAbandoned: no Type 3 followed although the capture went on,
	// or the connection was closed (FIN or RST) on the Type 3 before any
	// answer.
	OutcomeAbandoned = "abandoned"
	// OutcomeIncomplete: the capture ended before the handshake could
	// finish, or the Type 3's answer may be in a gap or beyond what the
	// capture saw of the connection. Never drives the verdict.
	OutcomeIncomplete = "incomplete"
)

// Causes of failed and abandoned handshakes.
const (
	CauseBalancer    = "balancer"
	CauseClient      = "client"
	CauseCredentials = "credentials"
	// CauseUnknown: the capture lost the evidence (gaps, mid-stream start,
	// a response not captured).
	CauseUnknown = "unknown"
)

// Connection legs.
const (
	// LegClient: a client's own connection (or any connection when no
	// relaying was seen).
	LegClient = "client"
	// LegUpstream: a connection that relays another captured connection's
	// NTLM messages (balancer → backend).
	LegUpstream = "upstream"
)

// Connection states at the end of a connection.
const (
	StateNone            = "none"
	StateAuthenticated   = "authenticated"
	StateMidHandshake    = "mid-handshake"
	StateUnauthenticated = "unauthenticated"
	StateKerberos        = "kerberos"
)

// Evidence names stored in Handshake.Evidence besides finding codes.
const (
	EvidenceChallengeNotCaptured = "challenge_not_captured"
	EvidenceResponseNotCaptured  = "response_not_captured"
	EvidenceType3NotCaptured     = "type3_may_be_lost"
	// EvidenceType3Unanswered: the server side never answered a Type 3,
	// and the client gave up after waiting (unansweredWait or more).
	EvidenceType3Unanswered = "type3_unanswered"
)

// MaxEvidence caps the connections, streams and frames listed in one
// finding; Finding.Count keeps the full number of occurrences.
const MaxEvidence = 100
