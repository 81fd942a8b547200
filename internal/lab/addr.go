package lab

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
)

// Ports every scenario uses on its own addresses. They are high and unusual
// so that a system nginx or squid listening on a wildcard address (a
// Debian package starts one on :80 or :3128) cannot collide with the lab.
const (
	FrontendPort = 48080 // balancer or proxy
	BackendPort  = 48081 // NTLM servers
)

// Host numbers inside a scenario's /24.
const (
	hostClient  = 10  // first client; further clients take 11, 12 …
	hostProxy   = 20  // balancer or proxy
	hostBackend = 101 // first backend; further backends take 102, 103 …
	hostMarker  = 250 // the datagram that tells the capture is complete
)

var (
	baseOnce sync.Once
	base     byte
)

// runBase returns the second octet of this run's addresses, drawn once per
// process in [100, 250).
func runBase() byte {
	baseOnce.Do(func() { base = byte(100 + rand.IntN(150)) })
	return base
}

// Net is the block of loopback addresses of one scenario: 127.B.S.0/24.
type Net struct {
	b, s byte
}

// NetFor returns the block of scenario number s for this run.
func NetFor(s int) Net {
	return Net{b: runBase(), s: byte(s)}
}

// IP returns 127.B.S.host.
func (n Net) IP(host int) string {
	return netip.AddrFrom4([4]byte{127, n.b, n.s, byte(host)}).String()
}

// CIDR returns the block, 127.B.S.0/24.
func (n Net) CIDR() string { return n.IP(0) + "/24" }

// Client returns the address of client i (0-based).
func (n Net) Client(i int) string { return n.IP(hostClient + i) }

// Proxy returns the balancer's or proxy's address.
func (n Net) Proxy() string { return n.IP(hostProxy) }

// Frontend returns the balancer's or proxy's listening ip:port.
func (n Net) Frontend() string { return fmt.Sprintf("%s:%d", n.Proxy(), FrontendPort) }

// Backend returns the listening ip:port of backend i (0-based).
func (n Net) Backend(i int) string { return fmt.Sprintf("%s:%d", n.IP(hostBackend+i), BackendPort) }

// BackendIP returns the address of backend i (0-based).
func (n Net) BackendIP(i int) string { return n.IP(hostBackend + i) }
