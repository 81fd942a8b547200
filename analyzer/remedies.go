package analyzer

// Remedy texts a sysadmin can act on, keyed by the pattern found.
const (
	remedyPersistence = "Pin each client to one backend: persistence (sticky sessions) by source IP, or by cookie " +
		"when clients share an address."
	remedyNoMultiplex = "Disable upstream connection multiplexing/reuse for NTLM traffic, so each client connection " +
		"keeps its own backend connection: Avi \"connection multiplex\" off in the application profile, F5 " +
		"OneConnect off (or a /32 source mask), HAProxy \"http-reuse never\" and no \"option http-server-close\" " +
		"(or \"mode tcp\")."
	remedyKeepAlive = "Keep connections alive end to end during the handshake: no Connection: close and no server-side " +
		"close after a 401 carrying a Type 2, on the balancer (idle and request timeouts) and on the backends."
	remedyNTLMMode = "Use an NTLM-aware upstream mode where the balancer has one, e.g. NGINX Plus \"ntlm\" in the " +
		"upstream block (it binds the upstream connection to the client connection)."
	remedyKerberos = "Prefer Kerberos: register an SPN (HTTP/<name>) for the name clients use (the balancer's " +
		"virtual name, if there is one) on the service account the servers run as, so clients stop falling back to NTLM."
	remedyShared = "Urgent: an authenticated backend connection served another client's requests (identity leakage). " +
		"Turn off upstream connection sharing for this service now."
	remedyEPA = "Extended Protection cannot work behind TLS offload: terminate TLS on the backends (TLS passthrough or " +
		"re-encryption with the same certificate name), or relax Extended Protection on the backends."
	remedyClientKeepAlive = "Fix the client: keep the connection open for the whole handshake (no Connection: close, " +
		"HTTP/1.1 keep-alive) and send the Type 3 on the connection that received the Type 2; update or reconfigure " +
		"the HTTP library (proxy settings, connection pool per request)."
	remedyCredentials = "Check the accounts: correct user and domain, password not expired, account not locked out or " +
		"disabled, allowed to log on to the backend (Security event 4625 on the backend names the reason)."
	remedyPerRequest = "Reuse authenticated connections: enable keep-alive on the client and the balancer so one " +
		"handshake serves many requests."
	remedyReauth = "The balancer re-routes authenticated connections: make persistence cover the whole connection, " +
		"or check that the backends do not use authPersistSingleRequest."
	remedyRefused = "Find who refuses NTLM: the backends' Windows Authentication providers (NTLM, or Negotiate with " +
		"NTLM allowed, on every backend of the pool), a proxy's authentication scheme, and the \"Network security: " +
		"Restrict NTLM\" policies (event 4002 in the server's Microsoft-Windows-NTLM/Operational log names each " +
		"blocked request); then whether a proxy, WAF or balancer strips or rewrites the Authorization header " +
		"(capture on the server to see whether it arrives)."
	remedyUnanswered = "Find why the server does not answer the Type 3: NTLM validation goes through the server's " +
		"Netlogon to a domain controller; look for Netlogon events 5816-5819 (MaxConcurrentApi: raise it, or add " +
		"DCs), a broken secure channel (nltest /sc_query), and slow or unreachable DCs; capture on the server to see " +
		"whether the Type 3 reaches it."
	remedyOneLeg = "If the server address is a load balancer in front of several servers, capture its backend side " +
		"too: a Type 3 the balancer sends to another server than the one that issued the challenge is refused " +
		"exactly like a wrong password."
	remedyNTLMv1 = "Raise LmCompatibilityLevel (5: send NTLMv2 only, refuse LM and NTLM) on clients and servers."
)

// remedies returns the remedies for a verdict, adding those the findings
// call for; why is an inconclusive verdict's mostlyUnknown.
func (d *diagnosis) remedies(verdict, why string) []string {
	has := map[string]bool{}
	for _, f := range d.findings {
		has[f.code] = true
	}
	var out []string
	add := func(r string) {
		for _, x := range out {
			if x == r {
				return
			}
		}
		out = append(out, r)
	}
	balancer := func() {
		if has[CodeAuthenticatedConnShared] {
			add(remedyShared)
		}
		if has[CodeEPABehindTLSOffload] {
			add(remedyEPA)
		}
		add(remedyPersistence)
		add(remedyNoMultiplex)
		if has[CodeConnectionClosedMidHS] {
			add(remedyKeepAlive)
		}
		add(remedyNTLMMode)
		if has[CodeReauthOnAuthenticated] {
			add(remedyReauth)
		}
		add(remedyKeepAlive)
		add(remedyKerberos)
	}
	credentials := func() {
		add(remedyCredentials)
		if !d.hasUpstream {
			add(remedyOneLeg)
		}
	}
	switch verdict {
	case VerdictBalancer:
		balancer()
	case VerdictClient:
		add(remedyClientKeepAlive)
		add(remedyKerberos)
	case VerdictCredentials:
		credentials()
	case VerdictMixed:
		for _, h := range d.logical {
			if !h.failure() {
				continue
			}
			switch h.cause() {
			case CauseBalancer:
				balancer()
			case CauseClient:
				add(remedyClientKeepAlive)
			case CauseCredentials:
				credentials()
			}
		}
	case VerdictInconclusive:
		switch why {
		case CodeType1NotChallenged:
			add(remedyRefused)
		case EvidenceType3Unanswered:
			add(remedyUnanswered)
		default:
			add(captureAdvice)
		}
	}
	if has[CodeAuthenticatedConnShared] {
		add(remedyShared)
	}
	if has[CodeHandshakePerRequest] {
		add(remedyPerRequest)
	}
	if has[CodeNegotiateFellBackToNTLM] && verdict != VerdictNoNTLM {
		add(remedyKerberos)
	}
	if has[CodeNTLMv1InUse] {
		add(remedyNTLMv1)
	}
	if out == nil {
		out = []string{}
	}
	return out
}
