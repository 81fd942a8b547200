package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// manyReport is a synthetic report for the HTML caps: conns connections,
// those whose id is a multiple of every with a finding; the findings of
// three codes interleaved in report order (authFailed AUTH_FAILED, closed
// CONNECTION_CLOSED_MID_HANDSHAKE, restarted HANDSHAKE_RESTARTED, each
// message numbered within its code); and one user on userIDs connections.
func manyReport(conns, every, authFailed, closed, restarted, userIDs int) *analyzer.Report {
	r := baseReport(int64(conns)*10, t0, at(conns))
	r.Verdict.Code, r.Verdict.Title = analyzer.VerdictBalancer, analyzer.VerdictTitles[analyzer.VerdictBalancer]
	for id := range conns {
		c := conn(id, id, "10.0.0.5:"+strconv.Itoa(1024+id), []string{`CORP\alice`}, analyzer.StateUnauthenticated,
			"fin", id, id+1)
		if id%every == 0 {
			c.Findings = []string{analyzer.CodeAuthFailed}
		}
		r.Connections = append(r.Connections, c)
	}
	r.Summary.Connections = conns
	u := analyzer.User{Name: `CORP\alice`, Domain: "CORP", User: "alice", Handshakes: 1, Failed: 1}
	for id := range userIDs {
		u.ConnectionIDs = append(u.ConnectionIDs, id)
	}
	r.Users = []analyzer.User{u}
	for i := range max(authFailed, closed, restarted) {
		for _, c := range []struct {
			code string
			n    int
		}{{analyzer.CodeAuthFailed, authFailed}, {analyzer.CodeConnectionClosedMidHS, closed},
			{analyzer.CodeHandshakeRestarted, restarted}} {
			if i < c.n {
				r.Findings = append(r.Findings, finding(c.code, []int{i}, []int{i}, []int64{int64(i)}, 1, i,
					fmt.Sprintf("%s #%d.", c.code, i)))
			}
		}
	}
	return r
}

// renderHTMLOpts renders r as the html format does with opts.
func renderHTMLOpts(t *testing.T, r *analyzer.Report, opts Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := newHTMLRenderer(opts).render(&b, plainModel(r)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// htmlTableOf returns the markup of the table with the given id, and what
// follows it up to the end of its section.
func htmlTableOf(t *testing.T, page, id string) (table, after string) {
	t.Helper()
	start := strings.Index(page, `<table id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no table %s", id)
	}
	rest := page[start:]
	end := strings.Index(rest, "</table>")
	after, _, _ = strings.Cut(rest[end:], "</section>")
	return rest[:end], after
}

var connRowID = regexp.MustCompile(`<tr(?: class="failed")?><td class="n">(\d+)</td>`)

// TestHTMLCaps: without Verbose, the HTML of a large report lists at most
// htmlMaxConnections connections (only those with findings, in id order),
// htmlMaxPerCode findings per code (the first, in report order) and
// htmlMaxUserIDs connection links per user, and says below each table
// what it left out, with exact counts. A report at the caps, or any
// report with Verbose, lists everything and says nothing of cuts.
func TestHTMLCaps(t *testing.T) {
	for _, tc := range []struct {
		name                                         string
		r                                            *analyzer.Report
		verbose                                      bool
		every                                        int // the connections with findings, as built
		wantConns, wantFindings, wantLinks           int
		onlyWithFindings                             bool
		want, absent                                 []string
		wantConnNote, wantFindingNotes, wantUserMore bool
	}{{
		name: "over every cap", r: manyReport(2500, 2, 150, 120, 5, 70), every: 2,
		wantConns: htmlMaxConnections, onlyWithFindings: true, wantFindings: 205, wantLinks: htmlMaxUserIDs,
		wantConnNote: true, wantFindingNotes: true, wantUserMore: true,
		want: []string{
			`<h2 id="connections">Connections with findings</h2>`,
			"2500 connections: only those with findings are listed, in id order, at most 1000;",
			`placeholder="Filter the connections listed…"`,
			"1500 more connections not listed (250 of them with findings): --verbose lists every one",
			`<h2 id="findings">Findings (at most 100 of each code)</h2>`,
			"… 50 more AUTH_FAILED findings (--verbose lists every one",
			"… 20 more CONNECTION_CLOSED_MID_HANDSHAKE findings (--verbose lists every one",
			"AUTH_FAILED #99.", "CONNECTION_CLOSED_MID_HANDSHAKE #99.", "HANDSHAKE_RESTARTED #4.",
			`<span class="small">+20 more</span>`,
		},
		absent: []string{"AUTH_FAILED #100.", "CONNECTION_CLOSED_MID_HANDSHAKE #100.", "more HANDSHAKE_RESTARTED"},
	}, {
		// Over the connection cap by one: the cut depends on the number of
		// connections, not on how many have findings.
		name: "one connection over", r: manyReport(htmlMaxConnections+1, 1000, 1, 1, 1, 1), every: 1000,
		wantConns: 2, onlyWithFindings: true, wantFindings: 3, wantLinks: 1, wantConnNote: true,
		want: []string{"999 more connections not listed (0 of them with findings)"},
	}, {
		name: "over every cap, verbose", r: manyReport(2500, 2, 150, 120, 5, 70), every: 2, verbose: true,
		wantConns: 2500, wantFindings: 275, wantLinks: 70,
		want:   []string{`<h2 id="connections">Connections</h2>`, `<h2 id="findings">Findings</h2>`, "AUTH_FAILED #149."},
		absent: []string{"more connections not listed", "at most"},
	}, {
		name: "at the caps", r: manyReport(htmlMaxConnections, 7, htmlMaxPerCode, htmlMaxPerCode, 5, htmlMaxUserIDs),
		every: 7, wantConns: htmlMaxConnections, wantFindings: 205, wantLinks: htmlMaxUserIDs,
		want:   []string{`<h2 id="connections">Connections</h2>`, `<h2 id="findings">Findings</h2>`},
		absent: []string{"more connections not listed", "at most"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			page := renderHTMLOpts(t, tc.r, Options{Verbose: tc.verbose})
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(page, a) {
					t.Errorf("has %q", a)
				}
			}

			table, after := htmlTableOf(t, page, "connection-table")
			rows := connRowID.FindAllStringSubmatch(table, -1)
			if len(rows) != tc.wantConns {
				t.Errorf("%d connection rows, want %d", len(rows), tc.wantConns)
			}
			last := -1
			for _, m := range rows {
				id, _ := strconv.Atoi(m[1])
				if id <= last {
					t.Fatalf("connection %d after %d: not in id order", id, last)
				}
				if tc.onlyWithFindings && id%tc.every != 0 {
					t.Fatalf("connection %d without findings listed", id)
				}
				if !tc.onlyWithFindings && id != last+1 {
					t.Fatalf("connection %d follows %d: some left out", id, last)
				}
				last = id
			}
			if got := strings.Contains(after, `id="connections-cut"`); got != tc.wantConnNote {
				t.Errorf("note under the connection table: %v, want %v", got, tc.wantConnNote)
			}

			table, after = htmlTableOf(t, page, "finding-table")
			if n := strings.Count(table, "<tr><td data-v="); n != tc.wantFindings {
				t.Errorf("%d finding rows, want %d", n, tc.wantFindings)
			}
			if got := strings.Contains(after, `id="findings-cut"`); got != tc.wantFindingNotes {
				t.Errorf("notes under the finding table: %v, want %v", got, tc.wantFindingNotes)
			}
			// The top's strongest evidence is the first of its code: its
			// row is always listed, as the top says.
			if ev := newGlance(plainModel(tc.r)).Evidence; ev == nil || !strings.Contains(table, ev.Message) {
				t.Errorf("the strongest evidence %v has no row in the finding table", ev)
			}

			table, _ = htmlTableOf(t, page, "user-table")
			if n := strings.Count(table, `<a href="#conn-`); n != tc.wantLinks {
				t.Errorf("%d connection links for the user, want %d", n, tc.wantLinks)
			}
			if got := strings.Contains(table, " more</span>"); got != tc.wantUserMore {
				t.Errorf("user row says more: %v, want %v", got, tc.wantUserMore)
			}
		})
	}
}

// TestHTMLConnRowsCountsEachRun: the counts under the connection table are
// those of the last run of Each, not a sum over runs.
func TestHTMLConnRowsCountsEachRun(t *testing.T) {
	rows := newHTMLConnRows(plainModel(manyReport(htmlMaxConnections+10, 2, 0, 0, 0, 0)), false)
	for range 2 {
		n := 0
		for range rows.Each() {
			n++
		}
		if n != (htmlMaxConnections+10+1)/2 || rows.Omitted != htmlMaxConnections+10-n || rows.OmittedWithFindings != 0 {
			t.Fatalf("listed %d, omitted %d (%d with findings)", n, rows.Omitted, rows.OmittedWithFindings)
		}
	}
}

// TestHTMLUserCap: beyond htmlMaxUsers users the HTML lists the
// htmlMaxUsers with the most failed or abandoned handshakes and says how
// many it left out; at the cap, or with Verbose, every user in the
// report's order.
func TestHTMLUserCap(t *testing.T) {
	withUsers := func(n int) *analyzer.Report {
		r := manyReport(3, 1, 1, 0, 0, 0)
		r.Users = nil
		for i := range n {
			// User i failed i%5 handshakes; user 2 also abandoned 9.
			u := analyzer.User{Name: fmt.Sprintf(`CORP\u%04d`, i), Handshakes: 10, Failed: i % 5}
			if i == 2 {
				u.Abandoned = 9
			}
			r.Users = append(r.Users, u)
		}
		return r
	}
	userNames := regexp.MustCompile(`<td>CORP\\u(\d{4})</td>`)
	names := func(page string) []string {
		table, _ := htmlTableOf(t, page, "user-table")
		var out []string
		for _, m := range userNames.FindAllStringSubmatch(table, -1) {
			out = append(out, m[1])
		}
		return out
	}

	over := htmlMaxUsers + 205 // 241 users failed none: 205 of them are cut
	page := renderHTMLOpts(t, withUsers(over), Options{})
	got := names(page)
	if len(got) != htmlMaxUsers {
		t.Fatalf("%d user rows, want %d", len(got), htmlMaxUsers)
	}
	if got[0] != "0002" {
		t.Errorf("first row is user %s, want 0002 (11 failed or abandoned, the most)", got[0])
	}
	for _, id := range got[len(got)-36:] {
		if n, _ := strconv.Atoi(id); n%5 != 0 {
			t.Errorf("user %s (failed %d) is among the last rows, want only users that failed none", id, n%5)
		}
	}
	_, after := htmlTableOf(t, page, "user-table")
	if !strings.Contains(after, `id="users-cut">205 more users not listed`) {
		t.Errorf("the note under the user table does not say 205 users were left out: %q", after)
	}

	for _, tc := range []struct {
		name    string
		n       int
		verbose bool
	}{{"at the cap", htmlMaxUsers, false}, {"verbose", over, true}} {
		page := renderHTMLOpts(t, withUsers(tc.n), Options{Verbose: tc.verbose})
		got := names(page)
		if len(got) != tc.n || got[0] != "0000" || got[tc.n-1] != fmt.Sprintf("%04d", tc.n-1) {
			t.Errorf("%s: %d rows from %v to %v, want all %d in the report's order", tc.name, len(got), got[0], got[len(got)-1], tc.n)
		}
		if strings.Contains(page, "users-cut") {
			t.Errorf("%s: the page says users were left out", tc.name)
		}
	}
}
