package analyzer

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// build assembles the report from a finished diagnosis.
func (a *Analyzer) build(d *diagnosis, src reassembly.SourceStats) *Report {
	files := a.opts.Files
	if files == nil {
		files = src.Files
	}
	if files == nil {
		files = []string{}
	}
	r := &Report{
		Schema: Schema,
		Tool:   Tool{Name: "ntlmscope", Version: a.opts.ToolVersion},
		Source: Source{
			Files:                files,
			Packets:              src.Packets,
			Bytes:                src.Bytes,
			FirstSeen:            src.FirstSeen.UTC(),
			LastSeen:             src.LastSeen.UTC(),
			Gaps:                 a.gaps,
			EvictedConnections:   a.evicted,
			Malformed:            src.Malformed,
			Interface:            src.Interface,
			KernelDrops:          src.KernelDrops,
			TLSConnections:       a.tlsConns,
			TLSDecrypted:         a.tlsDecrypted,
			TLSWithoutKeys:       a.tlsWithoutKeys,
			HTTP2Connections:     a.http2Conns,
			TCPConnections:       a.tcpConns,
			MidstreamConnections: a.midstream,
			Truncated:            src.Truncated,
			HTTPErrors:           a.httpErrors,
		},
	}
	r.Summary = d.summary()
	r.Verdict = d.verdict(&r.Summary)
	r.Users = d.users()
	r.Backends = d.backends()
	r.Summary.Users = 0
	for _, u := range r.Users {
		if u.Name != "(unknown)" {
			r.Summary.Users++
		}
	}
	r.lazy = &connList{d: d}
	r.Findings = make([]Finding, 0, len(d.findings))
	for _, f := range d.sortedFindings() {
		r.Findings = append(r.Findings, f.model())
	}
	return r
}

// summary counts the client leg once.
func (d *diagnosis) summary() Summary {
	var s Summary
	for _, cs := range d.conns {
		if cs.upstream {
			s.UpstreamConnections++
			s.UpstreamHTTPRequests += int(cs.requests)
			continue
		}
		s.Connections++
		s.HTTPRequests += int(cs.requests)
		s.HTTPResponses += int(cs.responses)
		s.AuthenticatedRequests += int(cs.authRequests)
		s.AuthOffers += int(cs.offers)
		s.AuthChallenges += int(cs.challenges)
		s.KerberosExchanges += int(cs.rare().kerberos)
		if len(cs.hs) > 0 {
			s.NTLMConnections++
		}
	}
	for _, h := range d.logical {
		s.Handshakes++
		switch h.outcome() {
		case OutcomeSucceeded:
			s.HandshakesSucceeded++
		case OutcomeFailed:
			s.HandshakesFailed++
		case OutcomeAbandoned:
			s.HandshakesAbandoned++
		case OutcomeIncomplete:
			s.HandshakesIncomplete++
		}
		if h.has(fSplit) {
			s.HandshakesSplit++
		}
		if h.evid() == EvidenceChallengeNotCaptured {
			s.ChallengesNotCaptured++
		}
	}
	return s
}

// connection renders one connection with every handshake that crossed it.
func (d *diagnosis) connection(cs *connState) Connection {
	c := Connection{
		ID:                    int(cs.id),
		File:                  int(cs.file),
		TCPStream:             int(cs.stream),
		Client:                addrString(cs.clientAddr()),
		Server:                addrString(cs.serverAddr()),
		RealClients:           slices.Clone(cs.rare().realClients),
		Leg:                   cs.leg(),
		Linked:                []int{},
		Start:                 cs.start.time(),
		End:                   cs.end.time(),
		Ended:                 cs.ended.String(),
		Midstream:             !cs.sawSYN,
		Decrypted:             cs.decrypted,
		Gaps:                  Gaps{Client: int(cs.rare().gaps[0]), Server: int(cs.rare().gaps[1])},
		Requests:              int(cs.requests),
		Responses:             int(cs.responses),
		IncompleteMessages:    int(cs.rare().incompleteMessages),
		Statuses:              map[string]int{},
		Users:                 []string{},
		State:                 stateNames[cs.authState],
		AuthenticatedRequests: int(cs.authRequests),
		Handshakes:            []Handshake{},
		Findings:              []string{},
	}
	for o := range cs.rare().linked {
		c.Linked = append(c.Linked, int(o.id))
	}
	slices.Sort(c.Linked)
	for _, sc := range cs.statuses {
		if sc.n > 0 {
			c.Statuses[strconv.Itoa(int(sc.status))] = int(sc.n)
		}
	}
	for _, sc := range cs.rare().moreStatuses {
		c.Statuses[strconv.Itoa(int(sc.status))] = int(sc.n)
	}
	var hs []*handshake
	for _, h := range cs.hs {
		for h.mergedInto != nil {
			h = h.mergedInto
		}
		if !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	slices.SortFunc(hs, func(a, b *handshake) int { return cmp.Compare(a.id, b.id) })
	var users nameSet
	for _, h := range hs {
		c.Handshakes = append(c.Handshakes, h.model())
		if h.hasUser {
			users.add(h.userName())
		}
	}
	c.Users = users.list()
	index := make(map[*handshake]int, len(hs))
	for i, h := range hs {
		index[h] = i
	}
	c.Exchanges = cs.buildExchanges(index, d.lines, d.hashes)
	c.ExchangesOmitted = int(cs.ext().exchangesOmitted)
	for code := range cs.rare().findings {
		c.Findings = append(c.Findings, code)
	}
	slices.Sort(c.Findings)
	return c
}

// model renders a handshake.
func (h *handshake) model() Handshake {
	m := Handshake{
		ID:             int(h.id),
		Scheme:         h.scheme.String(),
		SPNEGO:         h.spnego,
		Proxy:          h.proxy,
		Outcome:        h.outcome(),
		Cause:          h.cause(),
		Evidence:       h.evid(),
		Client:         h.client,
		User:           h.userName(),
		Domain:         h.domain(),
		Workstation:    h.workstation(),
		ServerIdentity: h.identity,
		NTLMVersion:    h.responseKindName(),
		Frames: HandshakeFrames{Type1: h.t1.frame(), Type2: h.t2.frame(), Type3: h.t3.frame(),
			Final: h.final.frame()},
		Times: HandshakeTimes{Type1: h.t1.time().UTC(), Type2: h.t2.time().UTC(), Type3: h.t3.time().UTC(),
			Final: h.final.time().UTC()},
		Status:                int(h.finalStatus),
		DurationMs:            h.durationMs(),
		AuthenticatedRequests: int(h.authRequests),
		Upstream:              h.has(fUpstream),
		Route:                 slices.Clone(h.note().route),
	}
	if m.ServerIdentity == "" {
		m.ServerIdentity = h.echoIdentity()
	}
	if m.Scheme == "" {
		m.Scheme = "NTLM"
	}
	for _, c := range h.conns() {
		m.Connections = append(m.Connections, int(c.id))
	}
	return m
}

// sortedFindings sorts the findings by time, then code, then evidence (in
// place) and returns them.
func (d *diagnosis) sortedFindings() []*finding {
	slices.SortStableFunc(d.findings, func(a, b *finding) int {
		if c := a.time.Compare(b.time); c != 0 {
			return c
		}
		if c := cmp.Compare(a.code, b.code); c != 0 {
			return c
		}
		return cmp.Compare(firstID(a), firstID(b))
	})
	return d.findings
}

func firstID(f *finding) int {
	if len(f.conns) == 0 {
		return -1
	}
	return int(f.conns[0].id)
}

// model renders a finding with its evidence lists capped.
func (f *finding) model() Finding {
	info := Codes[f.code]
	m := Finding{
		Code:        f.code,
		Severity:    info.Severity,
		Title:       info.Title,
		Connections: []int{},
		TCPStreams:  []int{},
		Frames:      []int64{},
		Count:       f.count,
		Time:        f.time.UTC(),
		Message:     f.msg,
	}
	m.StreamFiles, m.Files = []int{}, []int{}
	for i, cs := range f.conns {
		if !slices.Contains(m.Files, int(cs.file)) {
			m.Files = append(m.Files, int(cs.file))
		}
		if i >= MaxEvidence {
			continue // Files still names every connection's capture
		}
		m.Connections = append(m.Connections, int(cs.id))
		m.TCPStreams = append(m.TCPStreams, int(cs.stream))
		m.StreamFiles = append(m.StreamFiles, int(cs.file))
	}
	slices.Sort(m.Files)
	frames := slices.Clone(f.frames)
	slices.Sort(frames)
	frames = slices.Compact(frames)
	for _, fr := range frames {
		if fr == 0 {
			continue
		}
		if len(m.Frames) == MaxEvidence {
			break
		}
		m.Frames = append(m.Frames, fr)
	}
	if len(f.users) > 0 {
		m.Users = slices.Clone(f.users)
		slices.SortFunc(m.Users, compareFold)
	}
	return m
}
