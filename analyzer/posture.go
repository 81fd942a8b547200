package analyzer

import (
	"time"

	"github.com/ntlmscope/ntlmscope/ntlm"
)

// Aggregated findings about how clients authenticate: mechanism, NTLM
// version, MIC, anonymous logons, Kerberos, and handshakes per request.

// postureFindings aggregates security posture and mechanism observations.
func (d *diagnosis) postureFindings(out *findingList) {
	var v1, anon, nomic, nego []*handshake
	for _, h := range d.logical {
		if h.scheme == schemeNegotiate {
			nego = append(nego, h)
		}
		if !h.hasUser {
			continue
		}
		switch h.resp() {
		case ntlm.ResponseLM, ntlm.ResponseNTLMv1, ntlm.ResponseNTLMv1ESS:
			v1 = append(v1, h)
		case ntlm.ResponseAnonymous:
			anon = append(anon, h)
		case ntlm.ResponseNTLMv2:
			if !h.hasMIC {
				nomic = append(nomic, h)
			}
		}
	}
	if len(nego) > 0 {
		f := hsFinding(CodeNegotiateFellBackToNTLM, nego...)
		f.msg = sprintf("%d handshake(s) used NTLM inside Negotiate: the client had no Kerberos ticket the server "+
			"accepted for the name it used (no SPN registered for it, often the balancer's virtual name; or, when a "+
			"Kerberos token was refused first, the SPN belongs to another account than the one the backends run as)",
			len(nego))
		out.add(f)
	}
	if len(v1) > 0 {
		f := hsFinding(CodeNTLMv1InUse, v1...)
		f.msg = sprintf("%d Type 3 message(s) carry LM/NTLMv1 responses (%s)", len(v1), joinSorted(f.users))
		out.add(f)
	}
	if len(anon) > 0 {
		f := hsFinding(CodeAnonymousNTLM, anon...)
		f.msg = sprintf("%d Type 3 message(s) authenticate anonymously", len(anon))
		out.add(f)
	}
	if len(nomic) > 0 {
		f := hsFinding(CodeNoMIC, nomic...)
		f.msg = sprintf("%d NTLMv2 Type 3 message(s) carry no MIC (%s)", len(nomic), joinSorted(f.users))
		out.add(f)
	}
	var kconns []*connState
	n := 0
	var first time.Time
	for _, cs := range d.conns {
		if k := cs.rare().kerberos; !cs.upstream && k > 0 {
			kconns = append(kconns, cs)
			n += int(k)
			if first.IsZero() || cs.start.time().Before(first) {
				first = cs.start.time()
			}
		}
	}
	if n > 0 {
		out.add(&finding{code: CodeKerberosInUse, conns: kconns, time: first, count: n,
			msg: sprintf("%d request(s) on %d connection(s) carried Kerberos tokens: counted apart, not NTLM", n, len(kconns))})
	}
}

// perRequestFindings reports clients that authenticate most requests
// anew: more successful handshakes than half their work requests (the
// requests of their connections outside handshakes, plus each successful
// Type 3, which carries a request too).
func (d *diagnosis) perRequestFindings(out *findingList) {
	type agg struct {
		hs    []*handshake
		conns []*connState
	}
	by := map[string]*agg{}
	var order []string
	for _, h := range d.logical {
		if h.outcome() != OutcomeSucceeded {
			continue
		}
		a := by[h.client]
		if a == nil {
			a = &agg{}
			by[h.client] = a
			order = append(order, h.client)
		}
		a.hs = append(a.hs, h)
		a.conns = append(a.conns, h.conns()...)
	}
	for _, c := range order {
		a := by[c]
		if len(a.hs) < 3 {
			continue
		}
		work := 0
		conns := dedupeConns(a.conns)
		for _, cs := range conns {
			work += int(cs.requests)
			for _, h := range cs.hs {
				if h.mergedInto == nil {
					work -= int(h.requests) // a split handshake's requests are all counted on its Type 3's connection
				}
			}
		}
		work += len(a.hs)
		if len(a.hs)*2 <= work {
			continue
		}
		f := hsFinding(CodeHandshakePerRequest, a.hs...)
		f.frames = nil
		for _, h := range a.hs {
			f.frames = append(f.frames, frameOn(h.t3conn, h.t3.frame()))
		}
		if len(conns) < len(a.hs) {
			// The connections were kept: each request was authenticated
			// on one that was authenticated already.
			f.msg = sprintf("client %s made %d successful handshakes for %d requests on %d connection(s): it kept its "+
				"connections but authenticated most requests anew, two extra round trips each (a client that "+
				"authenticates every POST, as Internet Explorer does, or a server that asks for it)",
				c, len(a.hs), work, len(conns))
		} else {
			f.msg = sprintf("client %s made %d successful handshakes for %d requests: it authenticates most requests "+
				"anew instead of reusing an authenticated connection, two extra round trips each", c, len(a.hs), work)
		}
		out.add(f)
	}
}
