package analyzer

import (
	"net/netip"
	"slices"
	"strings"
)

// markProxyClients finds the client IPs (client leg) that are themselves
// proxies or balancers:
//   - they add Via, X-Forwarded-For or Forwarded;
//   - one of their connections, once authenticated, carried the Type 3
//     messages of three accounts, or went back to an account after
//     another's (a connection shared between users: one user who signs in
//     as another, as a browser's prompt lets them, switches once);
//   - their users' Type 3 messages went to several server machines (a
//     balancer's backend side, captured without X-Forwarded-For). Machine
//     accounts (NAME$: a service of the workstation) are not its users.
//
// A fault "on the client side" of such a client is the path's, and its
// connections are treated like upstream ones (rematch.go). Several users
// on connections of their own to one server are no proxy: a terminal
// server (RDS, Citrix) or a NAT has them, and their faults stay the
// client's; nor is one user who retypes the name in another form. (A
// terminal server whose users reach two NTLM servers in the capture looks
// like a balancer's backend side: its client-side faults are then the
// path's.) It runs before correlation, on the handshake records in time
// order: correlation moves Type 1/Type 2 halves but never a Type 3 off its
// connection, so the users per connection are already final.
func (d *diagnosis) markProxyClients() {
	for _, cs := range d.conns {
		if !cs.upstream && cs.proxied {
			if _, ok := d.proxyClients[cs.clientIP()]; !ok {
				d.proxyClients[cs.clientIP()] = "adds Via/X-Forwarded-For/Forwarded headers"
			}
		}
	}
	// accounts lists, per connection once authenticated, the accounts of
	// its Type 3 messages as they changed; users and servers are each
	// IP's (in the order first seen, for the message).
	accounts := map[*connState][]string{}
	type ipUsers struct {
		users   nameSet
		servers map[netip.Addr]bool
	}
	byIP := map[string]*ipUsers{}
	var ips []string
	for _, h := range d.records {
		if !h.hasUser || h.t3conn.upstream || h.userName() == anonymousName {
			continue
		}
		c, ip, acct := h.t3conn, h.t3conn.clientIP(), accountKey(h)
		if _, ok := d.proxyClients[ip]; ok {
			continue
		}
		if !strings.HasSuffix(acct, "$") {
			u := byIP[ip]
			if u == nil {
				u = &ipUsers{servers: map[netip.Addr]bool{}}
				byIP[ip] = u
				ips = append(ips, ip)
			}
			u.users.add(acct)
			u.servers[c.serverAddr().Addr()] = true
		}
		seq, authed := accounts[c]
		switch {
		case !authed:
			if h.outcome() == OutcomeSucceeded {
				accounts[c] = []string{acct}
			}
		case seq[len(seq)-1] != acct:
			if slices.Contains(seq, acct) || len(seq) == 2 {
				d.proxyClients[ip] = sprintf("carried the Type 3 messages of %d accounts in turn on connection %s",
					len(seq)+1, d.cref(c))
			}
			accounts[c] = append(seq, acct)
		}
	}
	for _, ip := range ips {
		u := byIP[ip]
		if _, ok := d.proxyClients[ip]; !ok && len(u.users.names) >= 2 && len(u.servers) >= 2 {
			d.proxyClients[ip] = sprintf("carries the handshakes of %d users to %d servers", len(u.users.names), len(u.servers))
		}
	}
}

// accountKey names the account of h's Type 3 without its domain or realm
// and in lower case: a user who types "alice" and then "CORP\alice" is
// one account.
func accountKey(h *handshake) string {
	u := h.names.user
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	return strings.ToLower(u)
}

// proxyConn reports a connection whose client is a proxy or balancer: an
// upstream connection, or one from a client markProxyClients found.
func (d *diagnosis) proxyConn(cs *connState) bool {
	if cs.upstream {
		return true
	}
	_, ok := d.proxyClients[cs.clientIP()]
	return ok
}

// findProxyClients reports the clients markProxyClients found
// (CLIENT_IS_PROXY), with their connections and users.
func (d *diagnosis) findProxyClients() {
	if len(d.proxyClients) == 0 {
		return
	}
	// Only the proxies' connections and users are listed: a capture has
	// many clients and few proxies.
	users := map[string]*nameSet{}
	byIP := map[string][]*connState{}
	var ips []string
	for _, cs := range d.conns {
		if cs.upstream {
			continue
		}
		ip := cs.clientIP()
		if _, ok := d.proxyClients[ip]; !ok {
			continue
		}
		if _, ok := byIP[ip]; !ok {
			ips = append(ips, ip)
		}
		byIP[ip] = append(byIP[ip], cs)
	}
	for _, h := range d.logical {
		if !h.hasUser || h.userName() == anonymousName {
			continue
		}
		ip := h.t3conn.clientIP()
		if _, ok := d.proxyClients[ip]; !ok {
			continue
		}
		if users[ip] == nil {
			users[ip] = &nameSet{}
		}
		users[ip].add(h.userName())
	}
	slices.Sort(ips)
	for _, ip := range ips {
		why, ok := d.proxyClients[ip]
		if !ok {
			continue
		}
		f := &finding{code: CodeClientIsProxy}
		for _, cs := range byIP[ip] {
			if f.time.IsZero() || cs.start.time().Before(f.time) {
				f.time = cs.start.time()
			}
			f.conns = append(f.conns, cs)
		}
		f.count = len(f.conns)
		if u := users[ip]; u != nil {
			f.users = u.names
			if len(f.users) > MaxEvidence {
				f.users = f.users[:MaxEvidence]
			}
		}
		f.msg = sprintf("client %s %s: it is a proxy or balancer, so faults on its side are the path's", ip, why)
		d.add(f)
	}
}

// isProxyClient reports whether a handshake came through a client that is
// itself a proxy.
func (d *diagnosis) isProxyClient(h *handshake) bool {
	for _, c := range h.conns() {
		if _, ok := d.proxyClients[c.clientIP()]; ok {
			return true
		}
	}
	return false
}

// repairInterleaved gives each Type 3 to the handshake whose Type 2 it
// echoes exactly, when that is an earlier handshake of the same connection
// left without a Type 3: another handshake started in between
// (interleaving on a shared connection), and the state machine paired the
// Type 3 with the wrong Type 2.
func (d *diagnosis) repairInterleaved() {
	open := map[digest][]*handshake{} // Type 2 without Type 3, by keyed identity+timestamp
	for _, o := range d.records {
		if o.t2.ok() && !o.t3.ok() && o.t2TS {
			open[o.idKey] = append(open[o.idKey], o)
		}
	}
	for _, h := range d.records {
		if !h.t2.ok() || !h.t3.ok() || h.conn != h.t3conn || !h.echoTS || !h.t2TS || h.echoKey == h.idKey {
			continue
		}
		var earlier *handshake
		for _, o := range open[h.echoKey] {
			if o.conn == h.conn && !o.t3.ok() && o.mergedInto == nil && o.t2.time().Before(h.t3.time()) {
				earlier = o
			}
		}
		if earlier != nil {
			moveType3(h, earlier)
			open[h.idKey] = append(open[h.idKey], h)
		}
	}
}

// checkEchoes compares each Type 3 with the Type 2 its own connection
// carried last (unsplit handshakes): a different identity or timestamp
// means the Type 3 answers a challenge another backend issued.
// Backend-naming headers that differ between the Type 2 and the final
// response are the same proof.
func (d *diagnosis) checkEchoes() {
	for _, h := range d.records {
		if !h.t2.ok() || !h.t3.ok() || h.has(fSplit) {
			continue
		}
		if h.hintsDiffer() {
			h.flags |= fHintMismatch
		}
		if h.echoIdentity() == "" || h.identity == "" {
			continue
		}
		if h.echoTS && h.t2TS {
			if h.echoKey != h.idKey {
				h.flags |= fEchoMismatch
			}
		} else if !strings.EqualFold(h.echoIdentity(), h.identity) {
			h.flags |= fEchoMismatch
		}
	}
}

// plaintext reports whether a connection carried HTTP in the clear (not a
// decrypted TLS port).
func plaintext(cs *connState) bool {
	p := cs.server.Port()
	return p != 443 && p != 8443
}
