package synth

import (
	"encoding/json"
	"io"
)

// Expected is what a generated capture holds by construction: the counts
// ntlmscope must report, under the JSON names of its report.
type Expected struct {
	// Seed is the seed the capture was generated from.
	Seed uint64 `json:"seed"`
	// Bytes is the size of the file written; Packets are in Source.
	Bytes int64 `json:"bytes"`
	// CaptureSeconds is the capture time from the first packet to the last.
	CaptureSeconds float64 `json:"capture_seconds"`
	// MaxOpen is the most TCP conversations open at once: a reader's
	// connection table must hold that many to evict none.
	MaxOpen int64 `json:"max_open_connections"`
	// Source holds counts of the report's "source" object.
	Source SourceCounts `json:"source"`
	// Summary holds counts of the report's "summary" object, named alike.
	Summary Summary `json:"summary"`
	// Scenarios counts the conversations of each scenario, by name.
	Scenarios map[string]int `json:"scenarios"`
	// ScenarioBytes is how much of the file each scenario's packets take.
	ScenarioBytes map[string]int64 `json:"scenario_bytes"`
	// Causes is the cause each failed or abandoned handshake has by
	// construction, under the keys of the report's verdict.causes: a
	// balancer scenario's failures are the balancer's, a wrong password's
	// the credentials', an abandoned handshake (the user cancelled) the
	// client's. ntlmscope infers causes from evidence that other
	// conversations of the same client can blur (a client's handshakes on
	// its next connections reach other backends), so checks report them
	// but do not fail on them.
	Causes map[string]int64 `json:"causes"`
}

// The causes of the report's verdict.causes.
const (
	CauseBalancer    = "balancer"
	CauseClient      = "client"
	CauseCredentials = "credentials"
	CauseUnknown     = "unknown"
)

// SourceCounts are the expected fields of the report's "source" object.
// Nothing is lost: gaps, malformed packets, mid-stream starts and evicted
// connections are all zero (evictions provided the connection table holds
// the conversations open at once; see Expected.MaxOpen).
type SourceCounts struct {
	// Packets counts every record, TCP or UDP.
	Packets int64 `json:"packets"`
	// TCPConnections counts every TCP conversation, HTTP or not.
	TCPConnections int64 `json:"tcp_connections"`
	// TLSConnections counts the TLS scenario's connections.
	TLSConnections int64 `json:"tls_connections"`
	// Gaps, Malformed and MidstreamConnections are always zero.
	Gaps                 int64 `json:"gaps"`
	Malformed            int64 `json:"malformed"`
	MidstreamConnections int64 `json:"midstream_connections"`
}

// Summary mirrors the report's "summary" object. Every connection is a
// client leg (the generator writes no upstream leg) and every handshake
// stays on one connection, so the upstream, split and not-captured counts
// are zero; every connection ends with FIN after its last response, so no
// handshake is incomplete.
type Summary struct {
	// Connections counts TCP connections that carried HTTP.
	Connections         int64 `json:"connections"`
	UpstreamConnections int64 `json:"upstream_connections"`
	// NTLMConnections counts connections with at least one Type 1.
	NTLMConnections int64 `json:"ntlm_connections"`
	// HTTPRequests and HTTPResponses count every message (each request is
	// answered).
	HTTPRequests         int64 `json:"http_requests"`
	HTTPResponses        int64 `json:"http_responses"`
	UpstreamHTTPRequests int64 `json:"upstream_http_requests"`
	// Handshakes counts Type 1 messages (each starts one handshake), then
	// by outcome: succeeded (Type 3 answered with anything but 401/407),
	// failed (Type 3 answered 401/407), abandoned (no Type 3 before the
	// client closed).
	Handshakes            int64 `json:"handshakes"`
	HandshakesSucceeded   int64 `json:"handshakes_succeeded"`
	HandshakesFailed      int64 `json:"handshakes_failed"`
	HandshakesAbandoned   int64 `json:"handshakes_abandoned"`
	HandshakesIncomplete  int64 `json:"handshakes_incomplete"`
	HandshakesSplit       int64 `json:"handshakes_split"`
	ChallengesNotCaptured int64 `json:"challenges_not_captured"`
	// AuthenticatedRequests counts requests without credentials answered
	// with a success on a connection a handshake authenticated (the Type 3
	// request itself is not one).
	AuthenticatedRequests int64 `json:"authenticated_requests"`
	// AuthOffers counts 401/407 responses offering NTLM or Negotiate
	// without a token (the first answer, and the answer to a failed
	// Type 3); AuthChallenges those carrying a Type 2.
	AuthOffers     int64 `json:"auth_offers"`
	AuthChallenges int64 `json:"auth_challenges"`
	// KerberosExchanges counts requests carrying a Kerberos token.
	KerberosExchanges int64 `json:"kerberos_exchanges"`
	// Users counts distinct users named by a Type 3.
	Users int64 `json:"users"`
}

// WriteJSON writes e as indented JSON.
func (e *Expected) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}

// ReadExpected reads what WriteJSON wrote.
func ReadExpected(r io.Reader) (*Expected, error) {
	var e Expected
	if err := json.NewDecoder(r).Decode(&e); err != nil {
		return nil, err
	}
	return &e, nil
}
