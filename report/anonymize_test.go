package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// identifying lists every name and address of the broken-balancer
// fixture that --anonymize must hide.
var identifying = []string{"alice", "bob", "CORP", "WS-alice", "WS-bob", "web01", "web02", "corp.example",
	"10.0.0.5", "10.0.0.6", "10.0.0.100", "lab.pcapng"}

// TestAnonymizeHidesNames renders every format anonymized and finds none
// of the fixture's names or addresses (any case), while the structure
// (codes, filters, counts) stays.
func TestAnonymizeHidesNames(t *testing.T) {
	for _, format := range Formats() {
		for _, table := range csvTablesFor(format) {
			out := render(t, format, Options{Anonymize: true, CSVTable: table}, balancerReport())
			low := bytes.ToLower(out)
			for _, s := range identifying {
				if i := bytes.Index(low, []byte(strings.ToLower(s))); i >= 0 {
					t.Errorf("%s %s: %q is still there: …%s…", format, table, s, around(out, i))
				}
			}
		}
	}
	md := string(render(t, "markdown", Options{Anonymize: true}, balancerReport()))
	for _, want := range []string{"CONNECTION_CLOSED_MID_HANDSHAKE", "tcp.stream eq 0", "ip-", "user-", "dom-", "host-"} {
		if !strings.Contains(md, want) {
			t.Errorf("anonymized Markdown lost %q", want)
		}
	}
}

// TestAnonymizeIsStableAndKeyed: the same key gives the same pseudonyms
// in every format and run; another key gives others; no key, a random one.
func TestAnonymizeIsStableAndKeyed(t *testing.T) {
	key := []byte("k1")
	a := render(t, "json", Options{Anonymize: true, AnonymizeKey: key}, balancerReport())
	b := render(t, "json", Options{Anonymize: true, AnonymizeKey: key}, balancerReport())
	if !bytes.Equal(a, b) {
		t.Error("same key, different pseudonyms")
	}
	c := render(t, "json", Options{Anonymize: true, AnonymizeKey: []byte("k2")}, balancerReport())
	if bytes.Equal(a, c) {
		t.Error("different keys, same pseudonyms")
	}
	r1 := render(t, "json", Options{Anonymize: true}, balancerReport())
	r2 := render(t, "json", Options{Anonymize: true}, balancerReport())
	if bytes.Equal(r1, r2) {
		t.Error("without a key two runs gave the same pseudonyms")
	}
	// A user is one pseudonym wherever it appears (name, message, table).
	alice := regexp.MustCompile(`dom-[0-9a-f]{8}\\\\user-[0-9a-f]{8}`).FindAll(a, -1)
	distinct := map[string]bool{}
	for _, m := range alice {
		distinct[string(m)] = true
	}
	if len(distinct) != 2 {
		t.Errorf("want 2 distinct user pseudonyms (alice, bob), got %v", distinct)
	}
}

// TestAnonymizerText covers the free-text rewriting: word boundaries,
// case, longest match, unknown IPv4 addresses, ports kept.
func TestAnonymizerText(t *testing.T) {
	a := newAnonymizer([]byte("k"))
	alice := a.name(`CORP\alice`)
	host := a.host("web01.corp.example")
	ip := a.addr("10.0.0.5:50000")
	for in, want := range map[string]string{
		`CORP\alice failed.`:              alice + " failed.",
		`corp\ALICE`:                      alice,
		"alice's handshake":               a.user("alice") + "'s handshake",
		"malice and alicex stay":          "malice and alicex stay",
		"on web01.corp.example and WEB01": "on " + host + " and " + a.host("web01"),
		"from 10.0.0.5:50000":             "from " + ip,
		"from 192.168.7.7 too":            "from " + a.ip("192.168.7.7") + " too",
		"version 1.2.3.4.5 of":            "version 1.2.3.4.5 of",
		"client 2001:db8::7 sends":        "client " + a.ip("2001:db8::7") + " sends",
		"(2001:DB8::7 → [fd00::1]:80)":    "(" + a.ip("2001:db8::7") + " → [" + a.ip("fd00::1") + "]:80)",
		"from fd00::5.":                   "from " + a.ip("fd00::5") + ".",
		"at 08:00:00 and 08:00:00.123":    "at 08:00:00 and 08:00:00.123",
		"mac aa:bb:cc:dd:ee:ff stays":     "mac aa:bb:cc:dd:ee:ff stays",
		"::ffff:10.1.2.3 mapped":          a.ip("::ffff:10.1.2.3") + " mapped",
	} {
		if got := a.text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
	if got := a.addr("[2001:db8::1]:443"); !regexp.MustCompile(`^ip-[0-9a-f]{8}:443$`).MatchString(got) {
		t.Errorf("IPv6 address with port: %q", got)
	}
	for _, keepIt := range []string{"(anonymous)", "(unknown)", "", "-"} {
		if got := a.name(keepIt); got != keepIt {
			t.Errorf("name(%q) = %q: placeholders identify no one", keepIt, got)
		}
	}
	if got := a.target("GET", "http://intranet.corp.example:8080/users/alice/"); strings.Contains(got, "intranet") || strings.Contains(got, "alice") {
		t.Errorf("absolute target keeps names: %q", got)
	}
}

// TestFilterFindsAnonymizedUser: --user names the real user; the rows
// carry its pseudonym.
func TestFilterFindsAnonymizedUser(t *testing.T) {
	out := string(render(t, "table", Options{Anonymize: true, AnonymizeKey: goldenKey, Users: []string{`CORP\bob`}}, balancerReport()))
	if !strings.Contains(out, "TYPE3_ROUTED_TO_OTHER_BACKEND") || strings.Contains(out, "TYPE3_WITHOUT_CHALLENGE") {
		t.Errorf("filtering the anonymized table by bob:\n%s", out)
	}
}

// csvTablesFor lists the CSV tables for the csv format, and one pass for
// the others.
func csvTablesFor(format string) []string {
	if format == "csv" {
		return CSVTables
	}
	return []string{""}
}

// around returns the bytes around i, for messages.
func around(b []byte, i int) string {
	return string(b[max(0, i-30):min(len(b), i+30)])
}

// TestAnonymizeTargetsQuotingLaterNames: a request target that quotes a
// name is rewritten even when the report names it only later (the
// connection's own handshakes are read after its exchanges; bob first
// appears on a later connection), in every connection of every format.
func TestAnonymizeTargetsQuotingLaterNames(t *testing.T) {
	r := balancerReport()
	r.Connections[0].Exchanges[0].Target = "/home/alice/bob/"
	for _, format := range []string{"json", "html"} {
		out := bytes.ToLower(render(t, format, Options{Anonymize: true, KeepQuery: true}, r))
		for _, s := range []string{"alice", "bob"} {
			if i := bytes.Index(out, []byte(s)); i >= 0 {
				t.Errorf("%s: %q is still there: …%s…", format, s, around(out, i))
			}
		}
	}
}
