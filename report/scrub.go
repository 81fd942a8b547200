package report

import (
	"encoding/json"
	"strings"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// scrubber applies the sharing rules of [Options] to copies of model
// values: query strings dropped from request targets (unless KeepQuery),
// names and addresses pseudonymized (Anonymize). It never modifies its
// input, and it keeps its pseudonym table across calls so that a stream of
// records (NDJSON during a live capture) stays consistent.
type scrubber struct {
	keepQuery bool
	anon      *anonymizer // nil: no anonymization
}

func newScrubber(opts Options) *scrubber {
	s := &scrubber{keepQuery: opts.KeepQuery}
	if opts.Anonymize {
		s.anon = newAnonymizer(opts.AnonymizeKey)
	}
	return s
}

// top returns a scrubbed copy of r's top-level fields: everything but the
// connections, which connectionCopy scrubs one at a time. Without
// anonymization nothing there changes, and the copy shares r's lists.
func (s *scrubber) top(r *analyzer.Report) *analyzer.Report {
	c := &analyzer.Report{Schema: r.Schema, Tool: r.Tool, Source: r.Source, Summary: r.Summary,
		Verdict: r.Verdict, Users: r.Users, Backends: r.Backends, Findings: r.Findings}
	if s.anon == nil {
		return c
	}
	c = deepCopy(c)
	for i := range c.Users {
		s.user(&c.Users[i])
	}
	for i := range c.Backends {
		s.backend(&c.Backends[i])
	}
	for i := range c.Findings {
		s.finding(&c.Findings[i])
	}
	s.source(&c.Source)
	s.verdict(&c.Verdict)
	return c
}

// learn scrubs, and throws away, copies of everything r names, in the
// order of the report (connections, users, backends, findings, files),
// with free-text rewriting off. Afterwards the anonymizer knows every
// name, so that a finding message, the explanation or a request target
// is rewritten with every pseudonym, whichever part of the report named
// it first, and a connection is rewritten the same way each time it is
// read. Free text is rewritten only after learning, once, which also
// keeps the anonymizer from re-indexing its table for every connection.
func (s *scrubber) learn(r *analyzer.Report) {
	s.anon.learning = true
	defer func() { s.anon.learning = false }()
	for c := range r.EachConnection() {
		s.connectionCopy(c)
	}
	s.top(r)
}

// connectionCopy returns a scrubbed copy of c, leaving c alone.
func (s *scrubber) connectionCopy(c *analyzer.Connection) analyzer.Connection {
	if s.anon == nil {
		// Only request targets change: copy the exchanges alone.
		cc := *c
		copyExchanges(&cc)
		s.exchanges(&cc)
		return cc
	}
	cc := copyConnection(*c)
	s.connection(&cc)
	return cc
}

// deepCopy copies a report through its JSON form: the model is plain data
// whose JSON encoding is its contract, so the copy is exact. A streaming
// report is materialized on the way, so it is meant for the top-level
// fields (and tests).
func deepCopy(r *analyzer.Report) *analyzer.Report {
	b, err := json.Marshal(r)
	if err != nil {
		panic("report: the model does not encode: " + err.Error())
	}
	var c analyzer.Report
	if err := json.Unmarshal(b, &c); err != nil {
		panic("report: the model does not decode: " + err.Error())
	}
	return &c
}

// connection scrubs c in place (c is already a copy).
func (s *scrubber) connection(c *analyzer.Connection) {
	s.exchanges(c)
	if s.anon == nil {
		return
	}
	a := s.anon
	c.Client, c.Server = a.addr(c.Client), a.addr(c.Server)
	mapStrings(c.RealClients, a.addr)
	mapStrings(c.Users, a.name)
	for i := range c.Handshakes {
		s.handshake(&c.Handshakes[i])
	}
}

// handshake scrubs h in place.
func (s *scrubber) handshake(h *analyzer.Handshake) {
	if s.anon == nil {
		return
	}
	a := s.anon
	// Domain and user first: the name "DOMAIN\user" is built from them.
	h.Domain = a.domain(h.Domain)
	h.User = a.name(h.User)
	h.Workstation = a.workstation(h.Workstation)
	h.Client = a.addr(h.Client)
	h.ServerIdentity = a.host(h.ServerIdentity)
	for i := range h.Route {
		h.Route[i].Server = a.addr(h.Route[i].Server)
		h.Route[i].Identity = a.host(h.Route[i].Identity)
	}
}

func (s *scrubber) user(u *analyzer.User) {
	if s.anon == nil {
		return
	}
	a := s.anon
	u.Domain = a.domain(u.Domain)
	u.User = a.name(u.User)
	u.Name = a.name(u.Name)
	mapStrings(u.Workstations, a.workstation)
	mapStrings(u.Clients, a.addr)
}

func (s *scrubber) backend(b *analyzer.Backend) {
	if s.anon == nil {
		return
	}
	b.Identity = s.anon.host(b.Identity)
	mapStrings(b.Servers, s.anon.addr)
}

func (s *scrubber) finding(f *analyzer.Finding) {
	if s.anon == nil {
		return
	}
	mapStrings(f.Users, s.anon.name)
	f.Message = s.anon.text(f.Message)
}

func (s *scrubber) source(src *analyzer.Source) {
	if s.anon == nil {
		return
	}
	mapStrings(src.Files, s.anon.file)
}

func (s *scrubber) verdict(v *analyzer.Verdict) {
	if s.anon == nil {
		return
	}
	v.Explanation = s.anon.text(v.Explanation)
	mapStrings(v.Remedies, s.anon.text)
}

// target returns a request-target fit for sharing: without its query
// string and fragment unless keepQuery, and with its host pseudonymized
// when anonymizing (absolute-form targets of proxies, CONNECT authorities).
func (s *scrubber) target(method, t string) string {
	if !s.keepQuery {
		if i := strings.IndexAny(t, "?#"); i >= 0 {
			t = t[:i]
		}
	}
	if s.anon != nil {
		t = s.anon.target(method, t)
	}
	return t
}

// mapStrings replaces each element of list by f of it.
func mapStrings(list []string, f func(string) string) {
	for i, v := range list {
		list[i] = f(v)
	}
}
