package analyzer

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// users aggregates the client-leg handshakes per user (compared
// case-insensitively, named as first sent).
func (d *diagnosis) users() []User {
	by := map[string]*User{}
	conns := map[string]map[int]bool{}
	for _, h := range d.logical {
		k := h.userKey()
		u := by[k]
		if u == nil {
			u = &User{Name: h.userName(), Workstations: []string{}, Clients: []string{}, ConnectionIDs: []int{}}
			if h.hasUser {
				u.Domain, u.User = h.domain, h.user
			}
			by[k] = u
			conns[k] = map[int]bool{}
		}
		u.Handshakes++
		switch h.outcome {
		case OutcomeSucceeded:
			u.Succeeded++
		case OutcomeFailed:
			u.Failed++
		case OutcomeAbandoned:
			u.Abandoned++
		case OutcomeIncomplete:
			u.Incomplete++
		}
		if h.hasUser && h.workstation != "" {
			u.Workstations = appendUnique(u.Workstations, h.workstation)
		}
		u.Clients = appendUnique(u.Clients, h.client)
		for _, c := range h.conns() {
			conns[k][c.id] = true
		}
		u.Requests += h.requests + h.authRequests
		u.AuthenticatedRequests += h.authRequests
		if s := h.start(); u.FirstSeen.IsZero() || s.Before(u.FirstSeen) {
			u.FirstSeen = s
		}
		if e := h.lastUse(); e.After(u.LastSeen) {
			u.LastSeen = e
		}
		u.TimeInHandshakesMs += h.durationMs()
	}
	for _, r := range d.restarts {
		h := r.from
		if !h.hasUser {
			h = r.to
		}
		if u := by[h.userKey()]; u != nil {
			u.Restarts++
		}
	}
	out := make([]User, 0, len(by))
	for k, u := range by {
		for id := range conns[k] {
			u.ConnectionIDs = append(u.ConnectionIDs, id)
		}
		slices.Sort(u.ConnectionIDs)
		u.Connections = len(u.ConnectionIDs)
		slices.SortFunc(u.Workstations, compareFold)
		slices.SortFunc(u.Clients, strings.Compare)
		u.FirstSeen, u.LastSeen = u.FirstSeen.UTC(), u.LastSeen.UTC()
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b User) int {
		if c := compareFold(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// lastUse is the time of a handshake's last step or of the last request
// served on its strength.
func (h *handshake) lastUse() time.Time {
	if h.lastAuthUse.After(h.end()) {
		return h.lastAuthUse
	}
	return h.end()
}

func compareFold(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }

// backends aggregates handshakes per server identity: the client-leg
// handshakes are counted, and every connection (both legs) a Type 2 of the
// identity crossed names a server address.
func (d *diagnosis) backends() []Backend {
	by := map[string]*Backend{}
	get := func(id string) *Backend {
		k := strings.ToLower(id)
		b := by[k]
		if b == nil {
			b = &Backend{Identity: id, Servers: []string{}}
			by[k] = b
		}
		return b
	}
	for _, h := range d.records {
		if h.identity != "" && h.t2.ok {
			b := get(h.identity)
			b.Servers = appendUnique(b.Servers, addrString(h.conn.server))
		}
	}
	for _, h := range d.logical {
		id := h.identity
		if id == "" {
			id = h.echoIdentity
		}
		if id == "" {
			continue
		}
		b := get(id)
		b.Handshakes++
		switch h.outcome {
		case OutcomeSucceeded:
			b.Succeeded++
		case OutcomeFailed:
			b.Failed++
		case OutcomeAbandoned:
			b.Abandoned++
		case OutcomeIncomplete:
			b.Incomplete++
		}
	}
	out := make([]Backend, 0, len(by))
	for _, b := range by {
		slices.Sort(b.Servers)
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Backend) int {
		return cmp.Or(compareFold(a.Identity, b.Identity), strings.Compare(a.Identity, b.Identity))
	})
	return out
}
