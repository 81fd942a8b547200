package synth

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
)

// user is an account: DOMAIN\name.
type user struct {
	domain, name string
}

// client is one workstation: an address, the user logged on to it, and
// how far it is from the capture point.
type client struct {
	addr        netip.Addr
	user        int
	workstation string
	rtt         int64 // round trip to the capture point, ns
	agent       int   // index into userAgents
	port        uint16
}

// world is the fixed cast of a capture: clients, users, servers.
type world struct {
	clients []client
	users   []user
	// Server addresses: the web virtual IP, the proxy, TLS and SMB
	// servers, DNS; index 0 IPv4, 1 IPv6.
	web, proxy, dns [2]netip.Addr
	tls, smb        [][2]netip.Addr
	// identities are the Type 2 server names: web backends, then proxies.
	identities []string
	backends   int
}

var (
	firstNames = strings.Fields("anna ben carla david emma felix greta hugo ines jonas karin lars maria nils olga paul rosa sven tina uwe vera walter xenia yusuf zoe")
	lastNames  = strings.Fields("adler becker conrad dietz engel fischer graf hahn ilg jung keller lange maier neumann otto peters quandt roth schulz thiel ulrich vogel wolf zimmer")
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.80",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
		"Microsoft-WNS/10.0",
	}
)

// newWorld draws the cast from rng.
func newWorld(cfg *Config, rng *rand.Rand) *world {
	w := &world{backends: cfg.Backends}
	w.users = make([]user, cfg.Users)
	for i := range w.users {
		f := firstNames[i%len(firstNames)]
		l := lastNames[(i/len(firstNames))%len(lastNames)]
		name := f + "." + l
		if i >= len(firstNames)*len(lastNames) {
			name += strconv.Itoa(i / (len(firstNames) * len(lastNames)))
		}
		w.users[i] = user{domain: cfg.Domains[i%len(cfg.Domains)], name: name}
	}
	w.clients = make([]client, cfg.Clients)
	for i := range w.clients {
		c := &w.clients[i]
		if i%20 == 19 {
			c.addr = netip.AddrFrom16([16]byte{0xfd, 0x00, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)})
		} else {
			c.addr = netip.AddrFrom4([4]byte{10, 20 + byte(i>>16), byte(i >> 8), byte(i)})
		}
		// Every user gets a client before any gets a second one.
		c.user = i % cfg.Users
		c.workstation = "WS" + pad(i+1, 5)
		// Most clients sit on the LAN; a few come over a WAN link.
		c.rtt = int64(200_000 + rng.ExpFloat64()*3_000_000)
		if rng.IntN(10) == 0 {
			c.rtt += int64(20_000_000 + rng.IntN(60_000_000))
		}
		c.agent = rng.IntN(len(userAgents))
		c.port = uint16(49152 + rng.IntN(8192))
	}
	pair := func(v4 [4]byte, last byte) [2]netip.Addr {
		return [2]netip.Addr{netip.AddrFrom4(v4), netip.AddrFrom16([16]byte{0xfd, 0x00, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, v4[2], last})}
	}
	w.web = pair([4]byte{10, 10, 0, 80}, 80)
	w.proxy = pair([4]byte{10, 10, 0, 8}, 8)
	w.dns = pair([4]byte{10, 10, 0, 53}, 53)
	for i := range 16 {
		w.tls = append(w.tls, pair([4]byte{10, 10, 1, byte(10 + i)}, byte(10+i)))
	}
	for i := range 6 {
		w.smb = append(w.smb, pair([4]byte{10, 10, 2, byte(10 + i)}, byte(10+i)))
	}
	for i := range cfg.Backends {
		w.identities = append(w.identities, "WEB"+pad(i+1, 2))
	}
	for i := range cfg.Proxies {
		w.identities = append(w.identities, "PRX"+pad(i+1, 2))
	}
	return w
}

// pad formats n with leading zeros to width digits.
func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// badPassword reports whether client i is one of the 1 in 50 whose user
// has a stale saved password: those run only the WrongPassword scenario,
// and no other client runs it, so that no later success of the same user
// from the same client follows a wrong password (what tells credentials
// apart from the path).
func badPassword(i int) bool { return i%50 == 7 }

// pickClient draws a client with a stale password (bad) or one without.
func (w *world) pickClient(rng *rand.Rand, bad bool) int {
	n := len(w.clients)
	if n <= 7 {
		return rng.IntN(n) // too few clients to set some apart
	}
	for {
		if i := rng.IntN(n); badPassword(i) == bad {
			return i
		}
	}
}

// nextPort returns the client's next ephemeral port. Ports advance per
// connection and wrap within the dynamic range; with ISNs drawn per
// connection a reused 4-tuple is a new conversation, as on a real host.
func (c *client) nextPort() uint16 {
	p := c.port
	c.port++
	if c.port == 0 || c.port < 49152 {
		c.port = 49152
	}
	return p
}

// side returns 0 for an IPv4 client, 1 for IPv6: the index of the server
// address pairs.
func (c *client) side() int {
	if c.addr.Is4() {
		return 0
	}
	return 1
}
