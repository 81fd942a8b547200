package analyzer

import "time"

// Schema identifies the report format; it changes only when a field changes
// meaning or disappears (new fields may appear at any time).
const Schema = "ntlmscope.report/v1"

// Report is everything the analyzer found in one capture: the JSON contract
// that every output format renders. Lists are sorted (connections by id,
// findings by time then code, users by name, backends by identity) so that
// two runs on the same capture give identical output.
//
// Times are the capture's, in UTC (JSON: RFC 3339 with nanoseconds); a zero
// time means "not seen". Durations are milliseconds. Frame numbers are
// Wireshark's, per file: 0 means the step was not captured. No field ever
// holds a secret (challenges, responses, tokens, MICs).
type Report struct {
	// Schema is always [Schema].
	Schema string `json:"schema"`
	// Tool names the program that made the report.
	Tool Tool `json:"tool"`
	// Source says what was read and what evidence the capture lost.
	Source Source `json:"source"`
	// Summary counts connections, requests and handshakes (client leg once).
	Summary Summary `json:"summary"`
	// Verdict is the diagnosis, with its explanation and remedies.
	Verdict Verdict `json:"verdict"`
	// Users aggregates handshakes and requests per user.
	Users []User `json:"users"`
	// Backends aggregates handshakes per server identity (Type 2).
	Backends []Backend `json:"backends"`
	// Connections lists every connection that carried HTTP, both legs. It
	// is nil in a streaming report (see [Report.EachConnection]).
	Connections []Connection `json:"connections"`
	// Findings lists the observations, each with its evidence.
	Findings []Finding `json:"findings"`

	// lazy builds the connections of a streaming report.
	lazy *connList
}

// Tool names the program and version that produced a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Source describes the input: files, packet counts, and every way the
// capture lost evidence. Interface, KernelDrops, TLSDecrypted and
// TLSWithoutKeys are filled by the command layer when it knows them (live
// capture, TLS keys); the analyzer fills the rest.
type Source struct {
	// Files are the capture files in the order given; Connection.File
	// indexes this list.
	Files []string `json:"files"`
	// Interface is the live capture interface, "" for files.
	Interface string `json:"interface"`
	// Packets and Bytes count every record read.
	Packets int64 `json:"packets"`
	Bytes   int64 `json:"bytes"`
	// FirstSeen and LastSeen are the earliest and latest packet times.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Gaps counts holes in reassembled TCP streams (bytes never captured).
	Gaps int64 `json:"gaps"`
	// KernelDrops counts packets the capture dropped (live capture).
	KernelDrops int64 `json:"kernel_drops"`
	// EvictedConnections counts connections pushed out of a full table.
	EvictedConnections int64 `json:"evicted_connections"`
	// Malformed counts packets whose headers could not be decoded.
	Malformed int64 `json:"malformed"`
	// TLSConnections counts connections that carried TLS.
	TLSConnections int64 `json:"tls_connections"`
	// TLSDecrypted and TLSWithoutKeys split them by whether keys were given.
	TLSDecrypted   int64 `json:"tls_decrypted"`
	TLSWithoutKeys int64 `json:"tls_without_keys"`
	// HTTP2Connections counts HTTP/2 connections (counted, not analysed).
	HTTP2Connections int64 `json:"http2_connections"`
	// TCPConnections counts every TCP conversation seen.
	TCPConnections int64 `json:"tcp_connections"`
	// MidstreamConnections counts HTTP connections whose SYN was not
	// captured (the capture started after they opened).
	MidstreamConnections int64 `json:"midstream_connections"`
	// Truncated counts segments cut short by the snap length.
	Truncated int64 `json:"truncated"`
	// HTTPErrors counts bytes the HTTP parser had to skip.
	HTTPErrors int64 `json:"http_errors"`
}

// Summary holds the headline counts. Connections, requests, handshakes and
// users count the client leg once: connections that only relay another
// captured connection's NTLM messages are counted as upstream.
type Summary struct {
	// Connections counts client-leg connections with at least one parsed
	// HTTP message; UpstreamConnections those that relay them.
	Connections         int `json:"connections"`
	UpstreamConnections int `json:"upstream_connections"`
	// NTLMConnections counts client-leg connections that carried NTLM.
	NTLMConnections int `json:"ntlm_connections"`
	// HTTPRequests and HTTPResponses count the client leg's messages;
	// UpstreamHTTPRequests the requests of upstream connections.
	HTTPRequests         int `json:"http_requests"`
	HTTPResponses        int `json:"http_responses"`
	UpstreamHTTPRequests int `json:"upstream_http_requests"`
	// Handshakes counts NTLM handshakes once (a split one once, a relayed
	// one on its client leg only), then per outcome.
	Handshakes           int `json:"handshakes"`
	HandshakesSucceeded  int `json:"handshakes_succeeded"`
	HandshakesFailed     int `json:"handshakes_failed"`
	HandshakesAbandoned  int `json:"handshakes_abandoned"`
	HandshakesIncomplete int `json:"handshakes_incomplete"`
	// HandshakesSplit counts handshakes whose halves crossed connections.
	HandshakesSplit int `json:"handshakes_split"`
	// ChallengesNotCaptured counts Type 3 messages whose Type 2 the
	// capture lost (gap or mid-stream start).
	ChallengesNotCaptured int `json:"challenges_not_captured"`
	// AuthenticatedRequests counts requests served on an authenticated
	// connection without an auth header.
	AuthenticatedRequests int `json:"authenticated_requests"`
	// AuthOffers counts 401/407 responses offering NTLM or Negotiate
	// without a token; AuthChallenges those carrying a Type 2.
	AuthOffers     int `json:"auth_offers"`
	AuthChallenges int `json:"auth_challenges"`
	// KerberosExchanges counts requests carrying a Kerberos token (under
	// Negotiate or the bare Kerberos scheme).
	KerberosExchanges int `json:"kerberos_exchanges"`
	// Users counts distinct identified users ((unknown) excluded).
	Users int `json:"users"`
}

// Verdict is the diagnosis of a capture.
type Verdict struct {
	// Code is one of the Verdict* constants.
	Code string `json:"code"`
	// Title is a one-line summary.
	Title string `json:"title"`
	// Explanation cites the counts and the strongest evidence.
	Explanation string `json:"explanation"`
	// Remedies are what a sysadmin can change, most relevant first.
	Remedies []string `json:"remedies"`
	// Causes counts failed and abandoned handshakes per cause (Cause*
	// constants; every key is always present).
	Causes map[string]int `json:"causes"`
}

// User aggregates one user's handshakes (client leg). Name follows the
// conventions: DOMAIN\user, user@realm when the domain is empty,
// (anonymous), or (unknown) for handshakes no Type 3 attributes.
type User struct {
	Name         string   `json:"name"`
	Domain       string   `json:"domain"`
	User         string   `json:"user"`
	Workstations []string `json:"workstations"`
	// Clients are the client IPs (the real client named by
	// X-Forwarded-For/Forwarded when present).
	Clients    []string `json:"clients"`
	Handshakes int      `json:"handshakes"`
	Succeeded  int      `json:"succeeded"`
	Failed     int      `json:"failed"`
	Abandoned  int      `json:"abandoned"`
	Incomplete int      `json:"incomplete"`
	// Restarts counts this user's HANDSHAKE_RESTARTED findings.
	Restarts int `json:"restarts"`
	// Connections counts the client connections the user's handshakes
	// crossed; ConnectionIDs lists them.
	Connections   int   `json:"connections"`
	ConnectionIDs []int `json:"connection_ids"`
	// Requests counts the requests of the user's handshakes (the bare
	// request answered 401/407, Type 1, Type 3) plus its authenticated
	// requests.
	Requests              int       `json:"requests"`
	AuthenticatedRequests int       `json:"authenticated_requests"`
	FirstSeen             time.Time `json:"first_seen"`
	LastSeen              time.Time `json:"last_seen"`
	// TimeInHandshakesMs sums the durations of the user's handshakes.
	TimeInHandshakesMs float64 `json:"time_in_handshakes_ms"`
}

// Backend aggregates handshakes per server identity (the Type 2's
// MsvAvDnsComputerName, else MsvAvNbComputerName, else target name).
type Backend struct {
	Identity string `json:"identity"`
	// Servers lists the ip:port the identity's Type 2 messages came from.
	Servers    []string `json:"servers"`
	Handshakes int      `json:"handshakes"`
	Succeeded  int      `json:"succeeded"`
	Failed     int      `json:"failed"`
	Abandoned  int      `json:"abandoned"`
	Incomplete int      `json:"incomplete"`
}

// Connection is one TCP connection that carried at least one parsed HTTP
// message.
type Connection struct {
	// ID is unique within the run; File indexes Source.Files; TCPStream is
	// Wireshark's tcp.stream in that file.
	ID        int `json:"id"`
	File      int `json:"file"`
	TCPStream int `json:"tcp_stream"`
	// Parts lists the later files the connection went on into, when the
	// inputs are files that follow each other (a ring buffer's, or a
	// capture split with editcap): each with the connection's tcp.stream
	// in that file. Its frames are each numbered in their own file
	// (Exchange.RequestFile, Handshake.FrameFiles).
	Parts  []ConnectionPart `json:"parts,omitempty"`
	Client string           `json:"client"`
	Server string           `json:"server"`
	// RealClients are the addresses X-Forwarded-For/Forwarded named.
	RealClients []string `json:"real_clients,omitempty"`
	// Leg is LegClient, or LegUpstream for a connection that relays the
	// NTLM messages of another captured connection; Linked lists the
	// connections it shares NTLM tokens with.
	Leg    string    `json:"leg"`
	Linked []int     `json:"linked"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Ended says why tracking ended: fin, rst, idle, evicted, capture_end,
	// replaced.
	Ended string `json:"ended"`
	// Midstream is set when the capture missed the connection's SYN.
	Midstream bool `json:"midstream"`
	// Decrypted says the connection was HTTPS, decrypted with a TLS key log
	// (its HTTP is what the report shows).
	Decrypted bool `json:"decrypted,omitempty"`
	// Tunnel says what a proxy's CONNECT tunnel on the connection carried
	// after the proxy's 2xx: "tls" (Decrypted says whether it was read),
	// "http/1.1" (a plaintext tunnel: its messages are the connection's),
	// "http/2" or "other"; empty when no tunnel opened or nothing went
	// through it.
	Tunnel string `json:"tunnel,omitempty"`
	// Gaps counts the holes per direction.
	Gaps     Gaps `json:"gaps"`
	Requests int  `json:"requests"`
	// Responses counts responses, interim 1xx included; Statuses counts
	// them per status code.
	Responses int `json:"responses"`
	// IncompleteMessages counts requests and responses whose body did not
	// arrive whole (a gap, or the capture ended first): they are not in
	// Requests, Responses or Statuses, as Wireshark does not show them as
	// HTTP, but their headers were analysed.
	IncompleteMessages int            `json:"incomplete_messages"`
	Statuses           map[string]int `json:"statuses"`
	// Users lists the users of the handshakes the connection carried.
	Users []string `json:"users"`
	// State is the connection's authentication state at its end (State*
	// constants).
	State string `json:"state"`
	// AuthenticatedRequests counts requests served on it after a
	// successful handshake without a new one.
	AuthenticatedRequests int `json:"authenticated_requests"`
	// Handshakes lists every NTLM handshake whose messages crossed it
	// (a split handshake appears on each of its connections).
	Handshakes []Handshake `json:"handshakes"`
	// Exchanges lists the request/response exchanges of a connection that
	// carried authentication (NTLM, Negotiate or Kerberos), for ladder
	// diagrams: the first 200 of them, or the first 20 when every handshake
	// on it succeeded and it showed nothing wrong; ExchangesOmitted counts
	// the rest. A connection without authentication lists none (and omits
	// none).
	Exchanges        []Exchange `json:"exchanges,omitempty"`
	ExchangesOmitted int        `json:"exchanges_omitted,omitempty"`
	// Findings lists the codes of the findings that involve it.
	Findings []string `json:"findings"`
}

// Gaps counts the holes of a connection per direction.
type Gaps struct {
	Client int `json:"client"`
	Server int `json:"server"`
}

// Handshake is one NTLM handshake: Type 1, Type 2, Type 3 and the final
// response, possibly across connections.
type Handshake struct {
	// ID numbers handshakes in the report (by first message).
	ID int `json:"id"`
	// Scheme is "NTLM" or "Negotiate" as the client sent it; SPNEGO is set
	// when the NTLM messages were wrapped in SPNEGO.
	Scheme string `json:"scheme"`
	SPNEGO bool   `json:"spnego"`
	// Proxy is set for proxy authentication (407, Proxy-Authorization).
	Proxy bool `json:"proxy"`
	// Outcome is one of the Outcome* constants.
	Outcome string `json:"outcome"`
	// Cause is set for failed and abandoned handshakes (Cause* constants).
	Cause string `json:"cause,omitempty"`
	// Evidence names what decided the cause, e.g. a finding code or
	// "challenge_not_captured".
	Evidence string `json:"evidence,omitempty"`
	// Client is the client IP (the real client behind a proxy when named).
	Client      string `json:"client"`
	User        string `json:"user"`
	Domain      string `json:"domain"`
	Workstation string `json:"workstation"`
	// ServerIdentity comes from the Type 2 (or, when the Type 2 was not
	// captured, from the copy the Type 3 echoes).
	ServerIdentity string `json:"server_identity"`
	// NTLMVersion is the Type 3's response kind: anonymous, LM, NTLMv1,
	// NTLMv1-ESS, NTLMv2.
	NTLMVersion string `json:"ntlm_version"`
	// Frames and Times locate each step; Status is the final response's
	// status code (0 when none).
	Frames HandshakeFrames `json:"frames"`
	// FrameFiles says which file each step's frame is numbered in, when
	// the steps are not all in one file: one of the handshake's
	// connections spans files (Connection.Parts), or the handshake was
	// split across connections in different files; nil otherwise: the
	// frames are in their connection's file.
	FrameFiles *HandshakeFiles `json:"frame_files,omitempty"`
	Times      HandshakeTimes  `json:"times"`
	Status     int             `json:"status"`
	// Connections lists the connections of a split handshake (several) or
	// its one connection.
	Connections []int `json:"connections"`
	// Route says, for a handshake relayed by a captured proxy, which
	// upstream connection and backend each step crossed.
	Route []RouteStep `json:"route,omitempty"`
	// DurationMs runs from the first step to the last one captured.
	DurationMs float64 `json:"duration_ms"`
	// AuthenticatedRequests counts the requests served on the strength of
	// this handshake.
	AuthenticatedRequests int `json:"authenticated_requests"`
	// Upstream is set for a handshake seen on an upstream connection (a
	// relay, counted on the client leg).
	Upstream bool `json:"upstream,omitempty"`
}

// ConnectionPart is where a connection went on in a later file.
type ConnectionPart struct {
	File      int `json:"file"`
	TCPStream int `json:"tcp_stream"`
}

// HandshakeFiles holds the file each step's frame is numbered in
// (Handshake.FrameFiles).
type HandshakeFiles struct {
	Type1 int `json:"type1"`
	Type2 int `json:"type2"`
	Type3 int `json:"type3"`
	Final int `json:"final"`
}

// HandshakeFrames holds the frame of each step (0: not captured).
type HandshakeFrames struct {
	Type1 int64 `json:"type1"`
	Type2 int64 `json:"type2"`
	Type3 int64 `json:"type3"`
	Final int64 `json:"final"`
}

// HandshakeTimes holds the capture time of each step (zero: not captured).
type HandshakeTimes struct {
	Type1 time.Time `json:"type1"`
	Type2 time.Time `json:"type2"`
	Type3 time.Time `json:"type3"`
	Final time.Time `json:"final"`
}

// RouteStep says where one step of a relayed handshake went.
type RouteStep struct {
	// Step is "type1", "type2", "type3" or "final".
	Step string `json:"step"`
	// Connection is the upstream connection that carried it; Server its
	// backend address and Identity the backend's NTLM identity when known.
	Connection int    `json:"connection"`
	Server     string `json:"server"`
	Identity   string `json:"identity,omitempty"`
}

// Finding is one observation with the evidence for it.
type Finding struct {
	// Code is one of the codes in [Codes]; Severity and Title come from
	// there.
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	// Connections, TCPStreams and Frames locate the evidence (capped at
	// [MaxEvidence] entries each; Count says how many occurrences the
	// finding aggregates). TCPStreams has a connection's tcp.stream in
	// each file it crossed (Connection.Parts), after its own.
	Connections []int `json:"connections"`
	TCPStreams  []int `json:"tcp_streams"`
	// StreamFiles[i] indexes Source.Files: the capture TCPStreams[i] is
	// numbered in (tcp.stream numbers are per file). Files lists the
	// captures the evidence comes from. Frames are in order of capture,
	// then number; FrameFiles[i] indexes Source.Files: the capture
	// Frames[i] is numbered in.
	StreamFiles []int   `json:"stream_files"`
	Files       []int   `json:"files"`
	Frames      []int64 `json:"frames"`
	FrameFiles  []int   `json:"frame_files"`
	Count       int     `json:"count"`
	// Time is the first occurrence.
	Time time.Time `json:"time"`
	// Message explains it in one line.
	Message string `json:"message"`
	// Users lists the users involved, when known.
	Users []string `json:"users,omitempty"`
}

// Exchange is one request and its response on a connection, for ladder
// diagrams.
type Exchange struct {
	Method string `json:"method"`
	// Target is the request-target as sent; renderers drop the query
	// string unless asked to keep it.
	Target       string    `json:"target"`
	RequestFrame int64     `json:"request_frame"`
	RequestTime  time.Time `json:"request_time"`
	// RequestAuth names the credentials the request carried: "NTLM type1",
	// "NTLM type3", "Negotiate type1", "Kerberos", "Basic", or "".
	RequestAuth string `json:"request_auth,omitempty"`
	// Proxy is set for proxy authentication (Proxy-Authorization, 407).
	Proxy bool `json:"proxy,omitempty"`
	// Status is the response's status code; 0 when no response was captured.
	Status        int       `json:"status,omitempty"`
	ResponseFrame int64     `json:"response_frame,omitempty"`
	ResponseTime  time.Time `json:"response_time,omitempty"`
	// ResponseAuth names what the response's challenge carried: "NTLM
	// offer", "NTLM type2", "Negotiate type2", "Kerberos", or "".
	ResponseAuth string `json:"response_auth,omitempty"`
	// Handshake indexes the connection's Handshakes; -1 when the exchange
	// belongs to none.
	Handshake int `json:"handshake"`
	// RequestFile and ResponseFile say which file the frames are numbered
	// in, when the connection spans files (Connection.Parts); nil
	// otherwise: the connection's file.
	RequestFile  *int `json:"request_file,omitempty"`
	ResponseFile *int `json:"response_file,omitempty"`
}
