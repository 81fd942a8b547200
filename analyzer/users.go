package analyzer

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// startAggregates starts computing the users and backends of the report
// on another goroutine, as soon as the client-leg handshakes are known.
// They read what the steps up to collectLogical decided (outcomes, names,
// identities, requests); the steps that run meanwhile change none of it:
// they set flags, causes and routes, and record findings. The restarts,
// found meanwhile, are counted when the users are taken (aggregates).
func (d *diagnosis) startAggregates() {
	d.agg.started = true
	d.agg.done.Go(func() {
		d.agg.users, d.agg.keys = d.users()
		d.agg.backends = d.backends()
	})
}

// aggregates returns the users and backends, once computed (at once
// when startAggregates did not run).
func (d *diagnosis) aggregates() ([]User, []Backend) {
	if !d.agg.started {
		d.startAggregates()
	}
	d.agg.done.Wait()
	if !d.agg.counted {
		d.agg.counted = true
		d.countRestarts(d.agg.users, d.agg.keys)
	}
	return d.agg.users, d.agg.backends
}

// countRestarts counts each restart for the user of the failed handshake
// (of the next one when the failed one named none). keys are the users'
// keys, sorted (see users).
func (d *diagnosis) countRestarts(users []User, keys []string) {
	for _, r := range d.restarts {
		h := r.from
		if !h.hasUser {
			h = r.to
		}
		if i, ok := slices.BinarySearch(keys, h.userKey()); ok {
			users[i].Restarts++
		}
	}
}

// users aggregates the client-leg handshakes per user (compared
// case-insensitively, named as first sent), but for the restarts
// (countRestarts). It returns each user's key (userKey) too: keys are
// unique, and the users are sorted by them.
func (d *diagnosis) users() ([]User, []string) {
	type agg struct {
		u                     *User
		key                   string
		workstations, clients nameSet
		conns                 []int // ids, with repeats
	}
	by := map[string]*agg{}
	for _, h := range d.logical {
		k := h.userKey()
		a := by[k]
		if a == nil {
			a = &agg{u: &User{Name: h.userName()}, key: k}
			if h.hasUser {
				a.u.Domain, a.u.User = h.domain(), h.user()
			}
			by[k] = a
		}
		u := a.u
		u.Handshakes++
		switch h.outcome() {
		case OutcomeSucceeded:
			u.Succeeded++
		case OutcomeFailed:
			u.Failed++
		case OutcomeAbandoned:
			u.Abandoned++
		case OutcomeIncomplete:
			u.Incomplete++
		}
		if h.hasUser && h.workstation() != "" {
			a.workstations.add(h.workstation())
		}
		a.clients.add(h.client)
		for _, c := range h.conns() {
			a.conns = append(a.conns, int(c.id))
		}
		u.Requests += int(h.requests + h.authRequests)
		u.AuthenticatedRequests += int(h.authRequests)
		if s := h.start(); u.FirstSeen.IsZero() || s.Before(u.FirstSeen) {
			u.FirstSeen = s
		}
		if e := h.lastUse(); e.After(u.LastSeen) {
			u.LastSeen = e
		}
		u.TimeInHandshakesMs += h.durationMs()
	}
	aggs := make([]*agg, 0, len(by))
	for _, a := range by {
		u := a.u
		slices.Sort(a.conns)
		u.ConnectionIDs = slices.Clone(slices.Compact(a.conns)) // not the longer list's array
		u.Connections = len(u.ConnectionIDs)
		u.Workstations = slices.Clone(a.workstations.list())
		slices.SortFunc(u.Workstations, compareFold)
		u.Clients = slices.Clone(a.clients.list())
		slices.Sort(u.Clients)
		u.FirstSeen, u.LastSeen = u.FirstSeen.UTC(), u.LastSeen.UTC()
		aggs = append(aggs, a)
	}
	slices.SortFunc(aggs, func(a, b *agg) int {
		return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(a.u.Name, b.u.Name))
	})
	out, keys := make([]User, len(aggs)), make([]string, len(aggs))
	for i, a := range aggs {
		out[i], keys[i] = *a.u, a.key
	}
	return out, keys
}

// lastUse is the time of a handshake's last step or of the last request
// served on its strength.
func (h *handshake) lastUse() time.Time {
	if t := h.lastAuthUse.time(); t.After(h.end()) {
		return t
	}
	return h.end()
}

func compareFold(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }

// backends aggregates handshakes per server identity: the client-leg
// handshakes are counted, and every connection a Type 2 of the identity
// crossed names a server address: on the upstream leg when the capture has
// one there (the backend's own address), else on the client leg (where the
// balancer's virtual address stands for every backend).
func (d *diagnosis) backends() []Backend {
	type backend struct {
		b *Backend
		// servers and upstream name the addresses of the client-leg and
		// upstream connections; addrs holds those added, by the
		// connections' pointers.
		servers, upstream nameSet
		addrs             map[*netip.AddrPort]bool
	}
	by := map[string]*backend{}
	// exact finds a backend by the identity as sent: a capture names a few
	// backends hundreds of thousands of times, and lowering the name
	// each time would cost an allocation.
	exact := map[string]*backend{}
	get := func(id string) *backend {
		if b := exact[id]; b != nil {
			return b
		}
		k := strings.ToLower(id)
		b := by[k]
		if b == nil {
			b = &backend{b: &Backend{Identity: id}, addrs: map[*netip.AddrPort]bool{}}
			by[k] = b
		}
		exact[id] = b
		return b
	}
	for _, h := range d.records {
		if h.identity != "" && h.t2.ok() {
			b := get(h.identity)
			// Equal addresses behind different pointers are only added
			// twice: the set drops the second.
			if p := h.conn.server; !b.addrs[p] {
				b.addrs[p] = true
				if h.conn.upstream {
					b.upstream.add(addrString(h.conn.serverAddr()))
				} else {
					b.servers.add(addrString(h.conn.serverAddr()))
				}
			}
		}
	}
	for _, h := range d.logical {
		id := h.identity
		if id == "" {
			id = h.echoIdentity()
		}
		if id == "" {
			continue
		}
		b := get(id).b
		b.Handshakes++
		switch h.outcome() {
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
		servers := b.servers.list()
		if up := b.upstream.list(); len(up) > 0 {
			servers = up
		}
		b.b.Servers = slices.Clone(servers)
		slices.Sort(b.b.Servers)
		out = append(out, *b.b)
	}
	slices.SortFunc(out, func(a, b Backend) int {
		return cmp.Or(compareFold(a.Identity, b.Identity), strings.Compare(a.Identity, b.Identity))
	})
	return out
}
