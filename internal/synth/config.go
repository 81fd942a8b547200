package synth

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config says what to generate. The zero value of a field means its
// default (see [DefaultConfig]); only Seed and Size are usually set.
type Config struct {
	// Seed drives every random choice (math/rand/v2 PCG).
	Seed uint64
	// Size is the file size to reach, in bytes. New conversations start
	// until it is reached; those still open then run to their FIN, so the
	// file ends slightly larger.
	Size int64
	// Clients is the number of client addresses; every 20th is IPv6.
	// Each client belongs to one user (one workstation, one user logged
	// on), so that no client looks like a proxy carrying several users.
	Clients int
	// Users is the number of distinct user accounts, spread over Domains.
	Users   int
	Domains []string
	// Backends is the number of web servers (WEB01…) behind the virtual
	// IP; Proxies the number of NTLM proxies (PRX01…) behind the proxy
	// address.
	Backends, Proxies int
	// ConnRate is how many conversations start per second of capture time
	// (a Poisson process); with the scenarios' durations it sets how many
	// are open at once.
	ConnRate float64
	// Start is the capture time of the first packet.
	Start time.Time
	// Mix weighs the scenarios.
	Mix Mix
	// LargeBodyMin and LargeBodyMax bound the bodies of LargeBody.
	LargeBodyMin, LargeBodyMax int
	// LongMin and LongMax bound the authenticated requests of
	// LongKeepAlive.
	LongMin, LongMax int
}

// DefaultConfig returns the defaults: 2,000 clients, 500 users in three
// domains, eight web backends and two proxies, 300 new conversations per
// second, large bodies of 16 KiB to 128 KiB and long connections of 30 to
// 150 requests.
func DefaultConfig() Config {
	return Config{
		Clients:      2000,
		Users:        500,
		Domains:      []string{"CORP", "EMEA", "LAB"},
		Backends:     8,
		Proxies:      2,
		ConnRate:     300,
		Start:        time.Date(2024, 3, 11, 8, 0, 0, 0, time.UTC),
		Mix:          DefaultMix,
		LargeBodyMin: 16 << 10,
		LargeBodyMax: 128 << 10,
		LongMin:      30,
		LongMax:      150,
	}
}

// SmallConfig returns a configuration for test captures of a few hundred
// kilobytes: fewer clients and users, small large bodies and short long
// connections, so that every scenario fits.
func SmallConfig() Config {
	c := DefaultConfig()
	c.Clients, c.Users = 60, 24
	c.ConnRate = 40
	c.LargeBodyMin, c.LargeBodyMax = 6<<10, 16<<10
	c.LongMin, c.LongMax = 12, 20
	return c
}

// withDefaults fills the zero fields from DefaultConfig and checks the rest.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if c.Clients == 0 {
		c.Clients = d.Clients
	}
	if c.Users == 0 {
		c.Users = d.Users
	}
	if len(c.Domains) == 0 {
		c.Domains = d.Domains
	}
	if c.Backends == 0 {
		c.Backends = d.Backends
	}
	if c.Proxies == 0 {
		c.Proxies = d.Proxies
	}
	if c.ConnRate == 0 {
		c.ConnRate = d.ConnRate
	}
	if c.Start.IsZero() {
		c.Start = d.Start
	}
	if c.Mix == (Mix{}) {
		c.Mix = d.Mix
	}
	if c.LargeBodyMax == 0 {
		c.LargeBodyMin, c.LargeBodyMax = d.LargeBodyMin, d.LargeBodyMax
	}
	if c.LongMax == 0 {
		c.LongMin, c.LongMax = d.LongMin, d.LongMax
	}
	switch {
	case c.Size <= 0:
		return c, fmt.Errorf("synth: size must be positive")
	case c.Clients < 1 || c.Clients > 60000 || c.Users < 1 || c.Users > c.Clients:
		return c, fmt.Errorf("synth: want 1 <= users <= clients <= 60000 (got %d users, %d clients)", c.Users, c.Clients)
	case c.Backends < 2 || c.Backends > 99 || c.Proxies < 1 || c.Proxies > 99:
		// A balancer-broken handshake needs a second backend.
		return c, fmt.Errorf("synth: want 2..99 backends and 1..99 proxies")
	case c.ConnRate <= 0:
		return c, fmt.Errorf("synth: connection rate must be positive")
	case c.LargeBodyMin < 1 || c.LargeBodyMax < c.LargeBodyMin || c.LongMin < 1 || c.LongMax < c.LongMin:
		return c, fmt.Errorf("synth: body and long-connection bounds must be positive and ordered")
	}
	total := 0.0
	for _, w := range c.Mix {
		total += w
	}
	if total <= 0 {
		return c, fmt.Errorf("synth: the mix gives every scenario weight 0")
	}
	return c, nil
}

// ParseSize reads a size such as "2GB", "200MB", "250KB", "300kib" or
// "1048576". KB, MB and GB are powers of 1000, KiB, MiB and GiB of 1024.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || v*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("synth: size %q: want a positive number with an optional KB/MB/GB (or KiB/MiB/GiB) unit", s)
	}
	return int64(v * float64(mult)), nil
}
