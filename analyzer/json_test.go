package analyzer

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// richCapture plays a capture that fills every part of the report: both
// legs, a split, failures, posture findings, Kerberos.
func richCapture(s *script) {
	cl := s.conn(client1, vip)
	up1 := s.conn(balancerIP+":40000", web01)
	up2 := s.conn(balancerIP+":40001", web02)
	proxiedLogin(s, cl, up1, up2, "WEB01", `CORP\alice`, 401)
	proxiedLogin(s, cl, up1, up1, "WEB01", `CORP\alice`, 200)
	relay("GET", "/page", "", cl, up1)
	relayBack(200, nil, cl, up1)
	a := s.conn("10.0.0.6:50000", vip)
	a.anon(negoA)
	ch := a.t1(negoA, "WEB02")
	a.finServer()
	b := s.conn("10.0.0.6:50001", vip)
	b.t3(negoA, `CORP\bob`, ch, 401, t3opts{noMIC: true, cb: true})
	s.wait(time.Second)
	k := s.conn("10.0.0.7:50000", vip)
	k.req("GET", "/", "Authorization: Negotiate "+b64(s.spnegoKerberos()))
	k.resp(200)
}

// keysOf returns the keys of a JSON object.
func keysOf(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// first returns the first element of a JSON array field.
func first(t *testing.T, obj json.RawMessage, field string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	json.Unmarshal(obj, &m)
	var arr []json.RawMessage
	if err := json.Unmarshal(m[field], &arr); err != nil || len(arr) == 0 {
		t.Fatalf("%s: not a non-empty array: %s", field, m[field])
	}
	return arr[0]
}

func field(t *testing.T, obj json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	json.Unmarshal(obj, &m)
	v, ok := m[name]
	if !ok {
		t.Fatalf("no field %s in %s", name, obj)
	}
	return v
}

func requireKeys(t *testing.T, what string, raw json.RawMessage, want string) {
	t.Helper()
	have := keysOf(t, raw)
	for _, k := range strings.Fields(want) {
		if !slices.Contains(have, k) {
			t.Errorf("%s: field %q missing (have %v)", what, k, have)
		}
	}
}

func TestJSONContract(t *testing.T) {
	s := newScript(t)
	richCapture(s)
	r := s.finish()
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, raw); !slices.Equal(got, strings.Fields("backends connections findings schema source summary tool users verdict")) {
		t.Errorf("top-level keys = %v", got)
	}
	var schema string
	json.Unmarshal(field(t, raw, "schema"), &schema)
	if schema != "ntlmscope.report/v1" {
		t.Errorf("schema = %q", schema)
	}
	requireKeys(t, "tool", field(t, raw, "tool"), "name version")
	requireKeys(t, "source", field(t, raw, "source"), "files interface packets bytes first_seen last_seen gaps "+
		"kernel_drops evicted_connections malformed tls_connections tls_decrypted tls_without_keys http2_connections")
	requireKeys(t, "summary", field(t, raw, "summary"), "connections upstream_connections ntlm_connections "+
		"http_requests http_responses upstream_http_requests handshakes handshakes_succeeded handshakes_failed "+
		"handshakes_abandoned handshakes_incomplete authenticated_requests auth_offers auth_challenges "+
		"kerberos_exchanges users")
	requireKeys(t, "verdict", field(t, raw, "verdict"), "code title explanation remedies causes")
	requireKeys(t, "users[]", first(t, raw, "users"), "name domain user workstations clients handshakes succeeded "+
		"failed abandoned incomplete restarts connections requests authenticated_requests first_seen last_seen "+
		"time_in_handshakes_ms")
	requireKeys(t, "backends[]", first(t, raw, "backends"), "identity servers handshakes succeeded failed")
	conn := first(t, raw, "connections")
	requireKeys(t, "connections[]", conn, "id file tcp_stream client server leg linked start end requests "+
		"responses statuses users state handshakes findings")
	hs := first(t, conn, "handshakes")
	requireKeys(t, "handshakes[]", hs, "scheme proxy outcome user workstation server_identity ntlm_version "+
		"frames connections duration_ms")
	requireKeys(t, "frames", field(t, hs, "frames"), "type1 type2 type3 final")
	requireKeys(t, "findings[]", first(t, raw, "findings"), "code severity connections tcp_streams frames time message")

	// Statuses are keyed by the status code as a string.
	var st map[string]int
	json.Unmarshal(field(t, conn, "statuses"), &st)
	if st["401"] == 0 || st["200"] == 0 {
		t.Errorf("statuses = %v", st)
	}
	// Times are RFC 3339 in UTC.
	var ts string
	json.Unmarshal(field(t, conn, "start"), &ts)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") {
		t.Errorf("start = %q", ts)
	}
}

// TestNoSecretsInReport renders a report and looks for every secret the
// capture carried, in hex (either case) and base64, and for any 16-character
// piece of a raw token's base64.
func TestNoSecretsInReport(t *testing.T) {
	s := newScript(t)
	richCapture(s)
	r := s.finish()
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	low := strings.ToLower(text)
	if len(s.secrets) < 10 {
		t.Fatalf("only %d secrets collected", len(s.secrets))
	}
	for _, sec := range s.secrets {
		if len(sec) < 8 {
			continue
		}
		if h := hex.EncodeToString(sec); strings.Contains(low, h) {
			t.Errorf("secret in hex: %s…", h[:8])
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding} {
			if e := enc.EncodeToString(sec); len(e) >= 12 && strings.Contains(text, e[:12]) {
				t.Errorf("secret in base64: %s…", e[:8])
			}
		}
		if len(sec) > 32 { // a whole token: any window of its base64
			e := base64.StdEncoding.EncodeToString(sec)
			for i := 0; i+16 <= len(e); i += 4 {
				if strings.Contains(text, e[i:i+16]) {
					t.Errorf("token base64 piece %q in report", e[i:i+16])
					break
				}
			}
		}
		if bytes.Contains(out, sec) {
			t.Errorf("raw secret bytes in report")
		}
	}
}
