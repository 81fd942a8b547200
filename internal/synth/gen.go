package synth

import (
	"io"
	"math/rand/v2"
	"net/netip"
)

// gen is one run of the generator.
type gen struct {
	cfg  Config
	rng  *rand.Rand
	w    *world
	tok  *tokens
	text []byte // page text for bodies
	bin  []byte // random bytes for opaque payloads
	exp  *Expected
	out  *pcapngWriter
	hdr  [maxHeader]byte

	active  convHeap
	free    []*conv
	nextID  uint64
	open    int64 // TCP conversations started and not finished
	planned int64 // bytes of every conversation started, written or not
	cum     [numScenarios]float64
	seen    []bool // users named by a Type 3
	cred    []byte // scratch: a credentials header value
	chal    []byte // scratch: a challenge header value
	dateSec int64
	date    []byte
}

// Generate writes a capture as cfg says to w and returns what it holds.
// The output depends only on cfg.
func Generate(w io.Writer, cfg Config) (*Expected, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := newGen(cfg, w)
	first, last := g.run()
	if err := g.out.flush(); err != nil {
		return nil, err
	}
	e := g.exp
	e.Bytes = g.out.bytes
	e.Source.Packets = g.out.packets
	e.CaptureSeconds = float64(last-first) / 1e9
	for _, s := range g.seen {
		if s {
			e.Summary.Users++
		}
	}
	return e, nil
}

func newGen(cfg Config, w io.Writer) *gen {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6e746c6d73636f70)) // "ntlmscop"
	g := &gen{cfg: cfg, rng: rng, out: newPcapngWriter(w)}
	g.text = pageText(rng, 1<<20)
	g.bin = make([]byte, 256<<10)
	for i := 0; i < len(g.bin); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			g.bin[i+j] = byte(v >> (8 * j))
		}
	}
	g.w = newWorld(&cfg, rng)
	g.tok = newTokens(g.w, &cfg, g.bin)
	g.seen = make([]bool, len(g.w.users))
	g.exp = &Expected{Seed: cfg.Seed, Scenarios: map[string]int{}, ScenarioBytes: map[string]int64{},
		Causes: map[string]int64{CauseBalancer: 0, CauseClient: 0, CauseCredentials: 0, CauseUnknown: 0}}
	total := 0.0
	for i, wt := range cfg.Mix {
		total += wt
		g.cum[i] = total
	}
	return g
}

// run starts conversations at the arrival times of a Poisson process until
// the output reaches the size, emitting the packets of all open ones in
// capture-time order; then it lets the open ones finish. The first
// conversations cover every scenario of the mix once, so that even a small
// capture holds each. It returns the first and last packet times.
func (g *gen) run() (first, last int64) {
	next := g.cfg.Start.UnixNano()
	first = next
	var cover []Scenario
	for i, wt := range g.cfg.Mix {
		if wt > 0 {
			cover = append(cover, Scenario(i))
		}
	}
	g.rng.Shuffle(len(cover), func(i, j int) { cover[i], cover[j] = cover[j], cover[i] })
	// Conversations are scripted whole when they start, so the file's
	// final size is known then: stop starting them once it reaches the
	// size, and the file ends within one conversation of it (or once
	// every scenario ran, for a size too small to hold them all).
	g.planned = g.out.bytes
	for g.out.err == nil {
		if (g.planned < g.cfg.Size || len(cover) > 0) && (len(g.active) == 0 || next <= g.active[0].at) {
			var sc Scenario
			if len(cover) > 0 {
				sc, cover = cover[0], cover[1:]
			} else {
				sc = g.pick()
			}
			g.start(sc, next)
			next += int64(g.rng.ExpFloat64() / g.cfg.ConnRate * 1e9)
			continue
		}
		if len(g.active) == 0 {
			break
		}
		c := g.active[0]
		last = c.at
		c.emit(g.out, &g.hdr)
		if c.done() {
			g.active.pop()
			if !c.udp {
				g.open--
			}
			c.release()
			g.free = append(g.free, c)
		} else {
			g.active.fix0()
		}
	}
	return first, last
}

// pick draws a scenario by the mix's weights.
func (g *gen) pick() Scenario {
	x := g.rng.Float64() * g.cum[numScenarios-1]
	for i, c := range g.cum {
		if x < c && g.cfg.Mix[i] > 0 {
			return Scenario(i)
		}
	}
	return numScenarios - 1
}

// start scripts a conversation of scenario sc from a random client at
// capture time at, and counts it: tcp_connections for every TCP one,
// tls_connections for TLS, connections (and ntlm_connections when a Type 1
// crossed it) for HTTP.
func (g *gen) start(sc Scenario, at int64) {
	var c *conv
	if n := len(g.free); n > 0 {
		c, g.free = g.free[n-1], g.free[:n-1]
	} else {
		c = new(conv)
	}
	g.nextID++
	c.reset(g.nextID, at)
	ci := g.w.pickClient(g.rng, sc == WrongPassword)
	cl := &g.w.clients[ci]
	s := &script{g: g, c: c, ci: ci, cl: cl}
	v := cl.side()
	var srv netip.Addr
	port := uint16(80)
	switch sc {
	case Proxy:
		srv, port = g.w.proxy[v], 8080
	case TLS:
		srv, port = g.w.tls[g.rng.IntN(len(g.w.tls))][v], 443
	case SMB:
		srv, port = g.w.smb[g.rng.IntN(len(g.w.smb))][v], 445
	case DNS:
		srv, port = g.w.dns[v], 53
	default:
		srv = g.w.web[v]
	}
	c.cli = endpoint{addr: cl.addr, port: cl.nextPort(), mac: routerMAC}
	c.srv = endpoint{addr: srv, port: port, mac: serverMAC}
	c.mss = 1460
	if v == 1 {
		c.mss = 1440
	}
	c.seq = [2]uint32{g.rng.Uint32(), g.rng.Uint32()}
	c.ipID = [2]uint16{uint16(g.rng.Uint32()), uint16(g.rng.Uint32())}
	c.ttl = [2]uint8{127, 128}
	c.win = [2]uint16{64240, 65535}
	g.exp.Scenarios[sc.String()]++
	defer func() {
		g.planned += c.size
		g.exp.ScenarioBytes[sc.String()] += c.size
		g.active.push(c)
	}()
	if sc == DNS {
		c.udp = true
		c.cli.port = uint16(49152 + g.rng.IntN(16384))
		s.dnsQuery()
		return
	}
	c.open(cl.rtt)
	s.think(100_000)
	switch sc {
	case Healthy:
		s.healthy(wrapNTLM)
	case Negotiate:
		s.healthy(wrapNegotiate)
	case Balancer:
		s.balancer()
	case WrongPassword:
		s.wrongPassword()
	case Abandoned:
		s.abandoned()
	case Proxy:
		s.proxyAuth()
	case Kerberos:
		s.kerberos()
	case Plain:
		s.plain()
	case LongKeepAlive:
		s.longKeepAlive()
	case LargeBody:
		s.largeBody()
	case TLS:
		s.tlsSession()
	case SMB:
		s.smbSession()
	}
	e := g.exp
	e.Source.TCPConnections++
	switch sc {
	case TLS:
		e.Source.TLSConnections++
	case SMB:
	default:
		e.Summary.Connections++
		if s.ntlm {
			e.Summary.NTLMConnections++
		}
	}
	g.open++
	if g.open > e.MaxOpen {
		e.MaxOpen = g.open
	}
}

// seeUser records that a Type 3 named user u.
func (g *gen) seeUser(u int) { g.seen[u] = true }

// binAt returns n random bytes (n at most 256 KiB) from a random place.
func (g *gen) binAt(n int) []byte {
	off := g.rng.IntN(len(g.bin) - n + 1)
	return g.bin[off : off+n]
}

// pageText returns n bytes of words: no markup, quotes or ampersands, so
// that an XML or JSON wrapper around any run of it stays well formed.
func pageText(rng *rand.Rand, n int) []byte {
	words := []string{"quarterly", "report", "team", "site", "document", "library", "news", "the", "and", "of", "to", "project", "update", "meeting", "policy", "travel", "expenses", "calendar", "holiday", "portal", "list", "item", "status", "approved"}
	b := make([]byte, 0, n+32)
	for len(b) < n {
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, ' ')
	}
	return b[:n]
}
