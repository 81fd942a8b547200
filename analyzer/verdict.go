package analyzer

import (
	"slices"
	"strings"
)

// verdict judges the client-leg handshakes: no-ntlm without any; healthy
// without failed or abandoned ones; inconclusive when most of those have
// cause unknown; else the cause behind at least two thirds of the failures
// whose cause is known (unknown ones are no evidence either way), or mixed.
func (d *diagnosis) verdict(sum *Summary) Verdict {
	v := Verdict{Causes: map[string]int{CauseBalancer: 0, CauseClient: 0, CauseCredentials: 0, CauseUnknown: 0}}
	failures := 0
	for _, h := range d.logical {
		if h.failure() {
			failures++
			v.Causes[h.cause()]++
		}
	}
	switch {
	case len(d.logical) == 0 && (d.tlsWithoutKeys > 0 || d.truncated > 0):
		// No NTLM seen, but HTTPS that may carry it was not seen inside,
		// or packets that may carry it were cut short.
		v.Code = VerdictInconclusive
	case len(d.logical) == 0:
		v.Code = VerdictNoNTLM
	case failures == 0:
		v.Code = VerdictHealthy
	case v.Causes[CauseUnknown]*2 > failures:
		v.Code = VerdictInconclusive
	default:
		known := failures - v.Causes[CauseUnknown]
		v.Code = VerdictMixed
		for _, c := range []string{CauseBalancer, CauseClient, CauseCredentials} {
			if v.Causes[c]*3 >= known*2 {
				v.Code = map[string]string{CauseBalancer: VerdictBalancer, CauseClient: VerdictClient,
					CauseCredentials: VerdictCredentials}[c]
				break
			}
		}
	}
	// why is the evidence behind most unknown causes of an inconclusive
	// verdict when that lost nothing (see mostlyUnknown): the title, the
	// explanation and the remedies say it.
	why := ""
	if v.Code == VerdictInconclusive {
		why = d.mostlyUnknown()
	}
	v.Title = VerdictTitles[v.Code]
	switch why {
	case CodeType1NotChallenged:
		v.Title = titleRefused
	case EvidenceType3Unanswered:
		v.Title = titleUnanswered
	}
	v.Explanation = d.explain(v, sum, failures, why)
	v.Remedies = d.remedies(v.Code, why)
	if len(d.logical) == 0 && (d.tlsWithoutKeys > 0 || d.truncated > 0) {
		var unseen []string
		v.Remedies = []string{}
		switch {
		case d.truncated > 0 && d.tlsWithoutKeys > 0:
			v.Title = titleCutAndTLS
		case d.truncated > 0:
			v.Title = titleCut
		default:
			v.Title = titleTLS
		}
		if d.truncated > 0 {
			unseen = append(unseen, d.cutShort())
			v.Remedies = append(v.Remedies, remedySnaplen)
		}
		if d.tlsWithoutKeys > 0 {
			unseen = append(unseen, d.tlsUnseen())
			v.Remedies = append(v.Remedies, remedyKeyLog)
		}
		v.Explanation = strings.Join(unseen, " ") +
			sprintf(" The %d HTTP connection(s) that could be read carry no NTLM handshake.", sum.Connections)
		return v
	}
	if d.tlsWithoutKeys > 0 && d.tlsWithoutKeys >= int64(sum.Connections) {
		// Most of the traffic was HTTPS without keys: say so first, and
		// do not call NTLM working where nobody looked.
		v.Explanation = d.tlsUnseen() + " " + v.Explanation
		v.Remedies = append([]string{remedyKeyLog}, v.Remedies...)
		if v.Code == VerdictHealthy {
			v.Title = titleHealthyTLS
		}
	}
	return v
}

// tlsUnseen explains that TLS connections could not be decrypted.
func (d *diagnosis) tlsUnseen() string {
	return sprintf("%d TLS connection(s) could not be decrypted, so most of the traffic (and any NTLM in it) was not seen.",
		d.tlsWithoutKeys)
}

// cutShort explains that the snapshot length cut packets short.
func (d *diagnosis) cutShort() string {
	return sprintf("The capture cut %d TCP segment(s) of HTTP (or unidentified) connections short, where their "+
		"headers were lost (its snapshot length): the headers that carry NTLM tokens may be in the bytes it dropped.",
		d.truncated)
}

// remedySnaplen says how to capture whole packets.
const remedySnaplen = "Capture whole packets: tcpdump -s 0 (or -s 65535), Wireshark without a packet size limit, " +
	"pktmon start --capture --pkt-size 0 (its default keeps 128 bytes)."

// remedyKeyLog says how to let ntlmscope see inside HTTPS.
const remedyKeyLog = "Let ntlmscope see inside HTTPS: start the browser or curl with SSLKEYLOGFILE set, reproduce the problem " +
	"while capturing, and run ntlmscope with --keylog FILE (see the README); clients on Schannel (Outlook, WinHTTP) " +
	"cannot log keys: capture the balancer-to-backend leg behind TLS offload instead."

// explain writes the verdict's explanation: the counts, then the strongest
// evidence; why is the verdict's mostlyUnknown.
func (d *diagnosis) explain(v Verdict, s *Summary, failures int, why string) string {
	var b strings.Builder
	if v.Code == VerdictNoNTLM {
		b.WriteString(sprintf("No NTLM handshake in %d HTTP connection(s).", s.Connections))
		switch {
		case s.KerberosExchanges > 0:
			b.WriteString(sprintf(" Kerberos is in use: %d request(s) carried Kerberos tokens (under Negotiate or the "+
				"Kerberos scheme), which ntlmscope counts but does not analyse.", s.KerberosExchanges))
		case s.AuthOffers > 0:
			b.WriteString(sprintf(" Servers offered NTLM or Negotiate %d time(s), but no client answered with NTLM.", s.AuthOffers))
		}
		return b.String()
	}
	b.WriteString(sprintf("%d NTLM handshake(s): %d succeeded, %d failed, %d abandoned, %d incomplete (their end is "+
		"not in the capture; not judged).", s.Handshakes, s.HandshakesSucceeded, s.HandshakesFailed, s.HandshakesAbandoned, s.HandshakesIncomplete))
	if failures > 0 {
		var parts []string
		for _, c := range []string{CauseBalancer, CauseClient, CauseCredentials, CauseUnknown} {
			if n := v.Causes[c]; n > 0 {
				parts = append(parts, sprintf("%s %d", c, n))
			}
		}
		b.WriteString(sprintf(" Causes of the %d failed or abandoned: %s.", failures, strings.Join(parts, ", ")))
	}
	switch v.Code {
	case VerdictHealthy:
		if s.ChallengesNotCaptured > 0 {
			b.WriteString(sprintf(" %d Type 3 message(s) answer challenges the capture lost; they are not blamed.", s.ChallengesNotCaptured))
		}
		if f := d.worstFinding(SeverityWarning); f != nil {
			b.WriteString(sprintf(" Still worth a look: %s (%s).", f.msg, f.code))
		}
	case VerdictInconclusive:
		switch why {
		case CodeType1NotChallenged:
			b.WriteString(" Most failures are Type 1 messages answered without a Type 2 (a bare 401 or 407, or a " +
				"final status): the server or proxy, or a device on the path, refused NTLM. Who refused is not in the capture.")
			return b.String()
		case EvidenceType3Unanswered:
			b.WriteString(" Most failures are Type 3 messages the server side never answered: the clients waited, " +
				"then closed the connection. The server, or the domain controller it asks to validate NTLM, did not " +
				"answer in time.")
			return b.String()
		}
		b.WriteString(" Most failures have no visible cause because the capture lost the evidence (gaps, drops, " +
			"connections that started before the capture). " + captureAdvice)
	default:
		if f := d.strongestEvidence(v.Code); f != nil {
			b.WriteString(sprintf(" Strongest evidence (%s): %s.", f.code, f.msg))
		}
	}
	return b.String()
}

// mostlyUnknown returns the evidence of most failures whose cause is
// unknown when that is one of those that lose nothing: a Type 1 answered
// without a challenge (TYPE1_NOT_CHALLENGED) or a Type 3 never answered
// (EvidenceType3Unanswered). All was captured then, and saying that the
// capture lost the evidence would send the user to capture again. Else "".
func (d *diagnosis) mostlyUnknown() string {
	unknown, refused, unanswered := 0, 0, 0
	for _, h := range d.logical {
		if h.failure() && h.cause() == CauseUnknown {
			unknown++
			switch h.evid() {
			case CodeType1NotChallenged:
				refused++
			case EvidenceType3Unanswered:
				unanswered++
			}
		}
	}
	switch {
	case refused*2 > unknown:
		return CodeType1NotChallenged
	case unanswered*2 > unknown:
		return EvidenceType3Unanswered
	}
	return ""
}

// captureAdvice says how to capture so that the evidence survives.
const captureAdvice = "Capture again: start the capture before the clients connect, on the balancer (both legs) " +
	"or on the server, with full packets and a large buffer (tcpdump -s 0 -B 65536), on the plaintext side of any " +
	"TLS termination or with the TLS keys (SSLKEYLOGFILE)."

// strongestEvidence returns the finding behind the most common evidence of
// the verdict's cause (ties: the more severe, then the earlier).
func (d *diagnosis) strongestEvidence(code string) *finding {
	want := map[string]string{VerdictBalancer: CauseBalancer, VerdictClient: CauseClient,
		VerdictCredentials: CauseCredentials}[code]
	counts := map[string]int{}
	for _, h := range d.logical {
		if h.failure() && (want == "" || h.cause() == want) && h.cause() != CauseUnknown && h.evid() != "" {
			counts[h.evid()]++
		}
	}
	var codes []string
	for c := range counts {
		if _, ok := Codes[c]; ok {
			codes = append(codes, c)
		}
	}
	slices.SortFunc(codes, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		if sa, sb := severityRank(Codes[a].Severity), severityRank(Codes[b].Severity); sa != sb {
			return sb - sa
		}
		return strings.Compare(a, b)
	})
	for _, c := range codes {
		for _, f := range d.findings {
			if f.code == c {
				return f
			}
		}
	}
	return d.worstFinding(SeverityError)
}

// worstFinding returns the most severe finding at or above min (earliest
// first), or nil.
func (d *diagnosis) worstFinding(min string) *finding {
	var best *finding
	for _, f := range d.findings {
		r := severityRank(Codes[f.code].Severity)
		if r < severityRank(min) {
			continue
		}
		if best == nil || r > severityRank(Codes[best.code].Severity) {
			best = f
		}
	}
	return best
}

func severityRank(s string) int {
	switch s {
	case SeverityCritical:
		return 3
	case SeverityError:
		return 2
	case SeverityWarning:
		return 1
	}
	return 0
}
