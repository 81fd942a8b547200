package synth

import (
	"fmt"
	"strconv"
	"strings"
)

// Scenario is one kind of conversation the generator writes. What each one
// contributes to the expected counts is documented on its builder (see
// scenarios_ntlm.go, scenarios_plain.go and noise.go).
type Scenario uint8

// The scenarios, in the order of [Mix].
const (
	Healthy       Scenario = iota // keep-alive NTLM: handshake, then authenticated requests
	Negotiate                     // the same under Negotiate (SPNEGO-wrapped NTLM)
	Balancer                      // a balancer sends the Type 3 to another backend; the client restarts
	WrongPassword                 // Type 3 answered 401 by the backend that issued the challenge
	Abandoned                     // the client closes after the Type 2, without a Type 3
	Proxy                         // NTLM proxy authentication (407, Proxy-Authorization) to a proxy port
	Kerberos                      // Kerberos under Negotiate: counted apart, never NTLM
	Plain                         // HTTP without authentication
	LongKeepAlive                 // one NTLM handshake, then many authenticated requests
	LargeBody                     // large bodies (Content-Length and chunked) over many segments
	TLS                           // TLS records on 443: a TCP connection, not HTTP
	SMB                           // SMB-like binary on 445: a TCP connection, not HTTP
	DNS                           // a UDP query and answer on 53: no TCP at all
	numScenarios
)

var scenarioNames = [numScenarios]string{
	Healthy:       "healthy",
	Negotiate:     "negotiate",
	Balancer:      "balancer",
	WrongPassword: "wrong_password",
	Abandoned:     "abandoned",
	Proxy:         "proxy",
	Kerberos:      "kerberos",
	Plain:         "plain",
	LongKeepAlive: "long_keepalive",
	LargeBody:     "large_body",
	TLS:           "tls",
	SMB:           "smb",
	DNS:           "dns",
}

// String returns the scenario's name as -mix and the expected JSON spell it.
func (s Scenario) String() string {
	if s < numScenarios {
		return scenarioNames[s]
	}
	return "UNKNOWN_SCENARIO_" + strconv.Itoa(int(s))
}

// Mix holds the relative weight of each scenario: the chance that a new
// conversation is of that kind. A zero weight leaves the scenario out.
type Mix [numScenarios]float64

// DefaultMix is a busy intranet site behind a balancer that breaks some
// handshakes: mostly NTLM and plain HTTP, with noise on other ports.
var DefaultMix = Mix{
	Healthy:       300,
	Negotiate:     80,
	Balancer:      60,
	WrongPassword: 20,
	Abandoned:     15,
	Proxy:         60,
	Kerberos:      60,
	Plain:         280,
	LongKeepAlive: 3,
	LargeBody:     5,
	TLS:           100,
	SMB:           40,
	DNS:           45,
}

// ParseMix reads "name=weight,..." (names as Scenario.String spells them)
// over base: the scenarios named get the weights given, the others keep
// theirs.
func ParseMix(s string, base Mix) (Mix, error) {
	m := base
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return m, fmt.Errorf("synth: mix item %q: want name=weight", item)
		}
		sc, ok := scenarioByName(strings.TrimSpace(name))
		if !ok {
			return m, fmt.Errorf("synth: mix item %q: unknown scenario (known: %s)", item, strings.Join(scenarioNames[:], ", "))
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || w < 0 {
			return m, fmt.Errorf("synth: mix item %q: weight must be a number >= 0", item)
		}
		m[sc] = w
	}
	return m, nil
}

func scenarioByName(name string) (Scenario, bool) {
	for i, n := range scenarioNames {
		if strings.EqualFold(n, name) {
			return Scenario(i), true
		}
	}
	return 0, false
}
