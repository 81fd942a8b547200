package analyzer

import (
	"cmp"
	"slices"
	"strconv"
	"sync"

	"github.com/ntlmscope/ntlmscope/reassembly"
)

// build assembles the report from a finished diagnosis.
func (a *Analyzer) build(d *diagnosis, src reassembly.SourceStats) *Report {
	files := a.opts.reportFiles(src)
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
	// The summary and verdict are written on another goroutine while the
	// findings are rendered in parts: both only read the findings, once
	// sorted.
	findings := d.findings // sorted by run (sortFindings)
	r.Findings = make([]Finding, len(findings))
	var judged sync.WaitGroup
	d.truncated = a.truncatedHTTP
	judged.Go(func() {
		r.Summary = d.summary()
		r.Verdict = d.verdict(&r.Summary)
	})
	divide(len(findings), 4096).each(func(_, lo, hi int) {
		for i, f := range findings[lo:hi] {
			r.Findings[lo+i] = f.model(d.frames)
		}
	})
	judged.Wait()
	r.Users, r.Backends = d.aggregates()
	r.Summary.Users = 0
	for _, u := range r.Users {
		if u.Name != "(unknown)" {
			r.Summary.Users++
		}
	}
	r.lazy = &connList{d: d}
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

// connScratch holds the lists a builder of connections, one after
// another, gives each connection from the one before's: building the
// connections of a large capture then makes next to no garbage.
type connScratch struct {
	hs         []*handshake
	linked     []int
	statuses   map[string]int
	users      []string
	handshakes []Handshake
	exchanges  []Exchange
	findings   []string
}

// connectionInto renders cs, with every handshake that crossed it, into
// *c. Its lists and map are taken from s and given back to it, so that the
// connection is only valid until the next one built with s (an empty s:
// they are new).
//
// Without exchanges, c.Exchanges is left nil (ExchangesOmitted still
// counts what the report leaves out): decoding every connection's
// exchanges is most of the cost of building a connection, and a renderer
// that lists connections draws none of them.
func (d *diagnosis) connectionInto(c *Connection, s *connScratch, cs *connState, exchanges bool) {
	*c = Connection{
		ID:                    int(cs.id),
		File:                  int(cs.file),
		TCPStream:             int(cs.stream),
		Client:                addrString(cs.clientAddr()),
		Server:                addrString(cs.serverAddr()),
		RealClients:           slices.Clone(cs.rare().realClients),
		Leg:                   cs.leg(),
		Linked:                s.linked[:0],
		Start:                 cs.start.time(),
		End:                   cs.end.time(),
		Ended:                 cs.ended.String(),
		Midstream:             !cs.sawSYN,
		Decrypted:             cs.decrypted,
		Tunnel:                tunnelName(cs.tunnel),
		Gaps:                  Gaps{Client: int(cs.rare().gaps[0]), Server: int(cs.rare().gaps[1])},
		Requests:              int(cs.requests),
		Responses:             int(cs.responses),
		IncompleteMessages:    int(cs.rare().incompleteMessages),
		Statuses:              s.statuses,
		State:                 stateNames[cs.authState],
		AuthenticatedRequests: int(cs.authRequests),
		Findings:              s.findings[:0],
	}
	// The lists are never nil: the JSON has [] and {}, not null.
	if c.Linked == nil {
		c.Linked = []int{}
	}
	if c.Findings == nil {
		c.Findings = []string{}
	}
	if c.Statuses == nil {
		c.Statuses = make(map[string]int, cs.statusCodes())
	} else {
		clear(c.Statuses)
	}
	for _, p := range cs.rare().parts {
		c.Parts = append(c.Parts, ConnectionPart{File: p.File, TCPStream: p.Stream})
	}
	for o := range cs.rare().linked {
		c.Linked = append(c.Linked, int(o.id))
	}
	slices.Sort(c.Linked)
	for _, sc := range cs.statuses {
		if sc.n > 0 {
			c.Statuses[statusText(sc.status)] = int(sc.n)
		}
	}
	for _, sc := range cs.rare().moreStatuses {
		c.Statuses[statusText(sc.status)] = int(sc.n)
	}
	hs := s.hs[:0]
	for _, h := range cs.hs {
		h = h.root()
		if !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	slices.SortFunc(hs, func(a, b *handshake) int { return cmp.Compare(a.id, b.id) })
	// Growing keeps the elements within the old length, whose lists
	// modelInto reuses.
	c.Handshakes = slices.Grow(s.handshakes[:0], len(hs))[:len(hs)]
	if c.Handshakes == nil {
		c.Handshakes = []Handshake{}
	}
	for i, h := range hs {
		h.modelInto(&c.Handshakes[i], d.frames)
	}
	c.Users = hsUsers(s.users[:0], hs)
	if exchanges {
		c.Exchanges = cs.buildExchanges(s.exchanges[:0], newHSIndex(hs), d.lines, d.hashes, d.frames)
	}
	c.ExchangesOmitted = int(cs.ext().exchangesOmitted)
	c.Findings = append(c.Findings, cs.rare().findings...) // sorted

	s.hs, s.linked, s.statuses, s.users, s.findings = hs, c.Linked, c.Statuses, c.Users, c.Findings
	s.handshakes = c.Handshakes
	if c.Exchanges != nil {
		s.exchanges = c.Exchanges
	}
}

// statusCodes counts the status codes the connection's responses had.
func (cs *connState) statusCodes() int {
	n := len(cs.rare().moreStatuses)
	for _, sc := range cs.statuses {
		if sc.n > 0 {
			n++
		}
	}
	return n
}

// hsUsers appends to users (nil, or an empty slice to reuse) the users of
// handshakes hs without repeats, compared case-insensitively, each as
// first seen; the list is never nil.
func hsUsers(users []string, hs []*handshake) []string {
	if users == nil {
		users = []string{}
	}
	if len(hs) > 16 {
		var seen nameSet
		for _, h := range hs {
			if h.hasUser && seen.addKeyed(h.userName(), h.userKey()) {
				users = append(users, h.userName())
			}
		}
		return users
	}
	// Few handshakes (nearly every connection): compare with those before,
	// which costs no set.
	for i, h := range hs {
		if !h.hasUser || slices.ContainsFunc(hs[:i], func(o *handshake) bool {
			return o.hasUser && o.userKey() == h.userKey()
		}) {
			continue
		}
		users = append(users, h.userName())
	}
	return users
}

// hsIndex finds handshakes in a connection's list of them.
type hsIndex struct {
	hs []*handshake
	m  map[*handshake]int // for a long list; nil: scan hs
}

func newHSIndex(hs []*handshake) hsIndex {
	x := hsIndex{hs: hs}
	if len(hs) > 16 {
		x.m = make(map[*handshake]int, len(hs))
		for i, h := range hs {
			x.m[h] = i
		}
	}
	return x
}

// of returns the position of h in the list, -1 when it is not there.
func (x hsIndex) of(h *handshake) int {
	if x.m == nil {
		return slices.Index(x.hs, h)
	}
	if i, ok := x.m[h]; ok {
		return i
	}
	return -1
}

// statusTexts are the status codes 100 to 599 as text.
var statusTexts = func() []string {
	t := make([]string, 500)
	for i := range t {
		t[i] = strconv.Itoa(100 + i)
	}
	return t
}()

// statusText is a status code as text, without an allocation for the
// codes HTTP defines.
func statusText(status int32) string {
	if status >= 100 && int(status-100) < len(statusTexts) {
		return statusTexts[status-100]
	}
	return strconv.Itoa(int(status))
}

// modelInto renders the handshake into *m, reusing m's list of
// connections; frames gives frames of connections that span files their
// own file's numbers.
func (h *handshake) modelInto(m *Handshake, frames *reassembly.FrameLocator) {
	conns := m.Connections[:0]
	*m = Handshake{
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
	// Each frame in its own file's numbers (Locate changes only a chain's);
	// the files are named when the steps are not all in one file: one of
	// the handshake's connections spans several, or it was split across
	// connections in different files.
	f1, t1 := frames.Locate(int(h.conn.file), m.Frames.Type1)
	f2, t2 := frames.Locate(int(h.conn.file), m.Frames.Type2)
	f3, t3 := frames.Locate(int(h.t3conn.file), m.Frames.Type3)
	f4, t4 := frames.Locate(int(h.t3conn.file), m.Frames.Final)
	m.Frames = HandshakeFrames{Type1: t1, Type2: t2, Type3: t3, Final: t4}
	if h.conn.file != h.t3conn.file || len(h.conn.rare().parts) > 0 || len(h.t3conn.rare().parts) > 0 {
		m.FrameFiles = &HandshakeFiles{Type1: f1, Type2: f2, Type3: f3, Final: f4}
	}
	if m.ServerIdentity == "" {
		m.ServerIdentity = h.echoIdentity()
	}
	if m.Scheme == "" {
		m.Scheme = "NTLM"
	}
	for _, c := range h.conns() {
		conns = append(conns, int(c.id))
	}
	m.Connections = conns
}

// sortFindings sorts the findings by time, then code, then evidence (in
// place, stably: the order they were found breaks ties). run calls it
// once all are in; the verdict and build read them after.
func (d *diagnosis) sortFindings() {
	order := func(a, b *finding) int {
		if c := a.time.Compare(b.time); c != 0 {
			return c
		}
		if c := cmp.Compare(a.code, b.code); c != 0 {
			return c
		}
		return cmp.Compare(firstID(a), firstID(b))
	}
	slices.SortStableFunc(d.findings, order)
}

func firstID(f *finding) int {
	if len(f.conns) == 0 {
		return -1
	}
	return int(f.conns[0].id)
}

// model renders a finding with its evidence lists capped; frames gives
// frames of connections that span files their own file's numbers.
func (f *finding) model(frames *reassembly.FrameLocator) Finding {
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
	stream := func(s, file int) {
		if len(m.TCPStreams) < MaxEvidence {
			m.TCPStreams = append(m.TCPStreams, s)
			m.StreamFiles = append(m.StreamFiles, file)
		}
	}
	for i, cs := range f.conns {
		// Files names every connection's captures, a connection that
		// spans files (parts) every one of them.
		if !slices.Contains(m.Files, int(cs.file)) {
			m.Files = append(m.Files, int(cs.file))
		}
		for _, p := range cs.rare().parts {
			if !slices.Contains(m.Files, p.File) {
				m.Files = append(m.Files, p.File)
			}
		}
		if i >= MaxEvidence {
			continue
		}
		m.Connections = append(m.Connections, int(cs.id))
		stream(int(cs.stream), int(cs.file))
		for _, p := range cs.rare().parts {
			stream(p.Stream, p.File) // its tcp.stream in each file it crossed
		}
	}
	slices.Sort(m.Files)
	m.FrameFiles = []int{}
	refs := slices.Clone(f.frames)
	for i, fr := range refs {
		file, n := frames.Locate(int(fr.file), fr.frame)
		refs[i] = frameRef{n, int32(file)}
	}
	slices.SortFunc(refs, func(a, b frameRef) int { return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.frame, b.frame)) })
	refs = slices.Compact(refs)
	for _, fr := range refs {
		if fr.frame == 0 {
			continue
		}
		if len(m.Frames) == MaxEvidence {
			break
		}
		m.Frames = append(m.Frames, fr.frame)
		m.FrameFiles = append(m.FrameFiles, int(fr.file))
	}
	if len(f.users) > 0 {
		m.Users = slices.Clone(f.users)
		slices.SortFunc(m.Users, compareFold)
	}
	return m
}

// reportFiles returns the capture files the report names: Options.Files,
// else the source's.
func (o Options) reportFiles(src reassembly.SourceStats) []string {
	files := o.Files
	if files == nil {
		files = src.Files
	}
	if files == nil {
		files = []string{}
	}
	return files
}

// tunnelName names what a CONNECT tunnel carried (Connection.Tunnel): the
// reassembler's protocol name, "" when no tunnel carried anything.
func tunnelName(p reassembly.Protocol) string {
	if p == reassembly.ProtoUnknown {
		return ""
	}
	return p.String()
}
