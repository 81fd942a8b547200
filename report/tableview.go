package report

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// tableView is what the table format lists below the verdict, after the
// --user and --connection filters and -v.
type tableView struct {
	users []analyzer.User
	// conns holds the cells of the connection rows, made as the
	// connections are read (see connectionRow): a table needs every row
	// before it can size its columns, but not every connection.
	conns    [][]string
	findings findingCut
	files    []string // the report's capture files
	verbose  bool
	// note says which filters apply, appended to section titles.
	note string
	// full is set with Verbose or a filter: every row, every list whole.
	// Otherwise a large capture's tables are cut to what a person reads
	// (the JSON formats always have everything), and the cuts are counted:
	// usersOmitted and connsOmitted rows, and the findings per code in
	// findings.Cut.
	full         bool
	usersOmitted int
	connsOmitted int
}

// Caps of the table format without --verbose or a filter.
const (
	// tableMaxRows bounds the users and the connections listed.
	tableMaxRows = 50
	// tableMaxPerCode bounds the findings listed per code.
	tableMaxPerCode = 10
	// tableMaxClients and tableMaxIDs bound the lists in a user's row.
	tableMaxClients = 8
	tableMaxIDs     = 12
)

// newTableView selects the rows to list. Without filters: every user and
// finding, and the connections with findings (all with Verbose). With
// filters, a connection is kept when its id was asked for or one of its
// users was, a user when asked for or seen on a kept connection
// (--connection alone), and a finding when it involves a kept connection
// or user.
func newTableView(r *model, o Options) tableView {
	v := tableView{verbose: o.Verbose, files: r.labels}
	filtered := len(o.Users) > 0 || len(o.Connections) > 0
	v.full = o.Verbose || filtered
	wantUser := func(name string) bool {
		return slices.ContainsFunc(o.Users, func(u string) bool { return userMatches(u, name) })
	}
	keptUsers := map[string]bool{}
	keptConns := map[int]bool{}
	for c := range r.eachConnectionBrief() {
		keep := !filtered || slices.Contains(o.Connections, c.ID) || slices.ContainsFunc(c.Users, wantUser)
		if !keep {
			continue
		}
		keptConns[c.ID] = true
		for _, u := range c.Users {
			keptUsers[strings.ToLower(u)] = true
		}
		if o.Verbose || filtered || len(c.Findings) > 0 {
			if !v.full && len(v.conns) == tableMaxRows {
				v.connsOmitted++
				continue
			}
			v.conns = append(v.conns, connectionRow(c, connFilter(v.files, c)))
		}
	}
	for _, u := range r.Users {
		if !filtered || wantUser(u.Name) || (len(o.Users) == 0 && keptUsers[strings.ToLower(u.Name)]) {
			v.users = append(v.users, u)
		}
	}
	if !v.full {
		// The users a sysadmin looks for first: the most failures.
		v.users, v.usersOmitted = cutUsers(v.users, tableMaxRows)
	}
	findings := r.Findings
	if filtered {
		findings = nil
		for _, f := range r.Findings {
			if slices.ContainsFunc(f.Connections, func(id int) bool { return keptConns[id] }) ||
				slices.ContainsFunc(f.Users, wantUser) {
				findings = append(findings, f)
			}
		}
	}
	v.findings = cutPerCode(findings, limit(tableMaxPerCode, v.full))
	if filtered {
		var parts []string
		for _, u := range o.Users {
			parts = append(parts, "user "+sanitize(u))
		}
		for _, id := range o.Connections {
			parts = append(parts, "connection "+strconv.Itoa(id))
		}
		v.note = " (only " + strings.Join(parts, ", ") + ")"
	}
	return v
}

// connectionRow returns the cells of a connection's row in the table;
// filter is its Wireshark filter (connFilter).
func connectionRow(c *analyzer.Connection, filter string) []string {
	return []string{strconv.Itoa(c.ID), filter, sanitize(c.Client),
		sanitize(c.Server), sanitize(strings.Join(c.Users, " ")), stateText(c), handshakeCounts(c.Handshakes),
		strconv.Itoa(c.Requests), strings.Join(c.Findings, " ")}
}

// userMatches reports whether a --user value names a user: the whole name
// (DOMAIN\user, user@realm) or, given without a domain, the account part,
// compared case-insensitively as Windows does.
func userMatches(want, name string) bool {
	if strings.EqualFold(want, name) {
		return true
	}
	if strings.Contains(want, `\`) {
		return false
	}
	_, account, ok := strings.Cut(name, `\`)
	return ok && strings.EqualFold(want, account)
}
