package report

import (
	"iter"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// Caps of the HTML report without Verbose. A browser opens a page of a
// few thousand table rows comfortably, not one of a hundred thousand, and
// html/template pays for every row it writes; the JSON report has
// everything, and each cut is said where it is made.
const (
	// htmlMaxConnections bounds the connection table. A report with no
	// more connections lists them all; above it, only those with
	// findings are listed, the first htmlMaxConnections of them.
	htmlMaxConnections = 1000
	// htmlMaxPerCode bounds the findings listed per code. The first
	// finding of each code is always listed, so the strongest evidence
	// at the top of the page (the first of its code, see
	// strongestEvidence) always has its row.
	htmlMaxPerCode = 100
	// htmlMaxUserIDs bounds the connection ids linked in a user's row.
	htmlMaxUserIDs = 50
	// htmlMaxUsers bounds the user table: beyond it, the users with the
	// most failed and abandoned handshakes are listed, as the table format
	// does.
	htmlMaxUsers = 1000
)

// htmlConnRows feeds the connection table to the template as it writes
// it: Each yields the rows one at a time, straight from the model's
// connections, so a capture's connections are never held at once, and
// counts those it leaves out. The counts are complete only once Each has
// run: the template reads them below the table.
type htmlConnRows struct {
	r *model
	// Total is the report's number of connections.
	Total int
	// Capped is set when not every connection is listed: only those with
	// findings, at most htmlMaxConnections. It is known before the rows
	// are written, so the heading can say it.
	Capped bool
	// Omitted counts the connections left out, OmittedWithFindings those
	// of them that have findings (beyond the cap).
	Omitted, OmittedWithFindings int
}

// newHTMLConnRows prepares the connection table of r: every connection
// with verbose or when there are no more than htmlMaxConnections.
func newHTMLConnRows(r *model, verbose bool) *htmlConnRows {
	n := r.ConnectionCount()
	return &htmlConnRows{r: r, Total: n, Capped: !verbose && n > htmlMaxConnections}
}

// Each yields the connections the table lists, in id order, and counts
// the others. What it yields is valid until the next is yielded (see
// [model.eachConnectionBrief]). Each run counts afresh.
func (t *htmlConnRows) Each() iter.Seq[*analyzer.Connection] {
	return func(yield func(*analyzer.Connection) bool) {
		t.Omitted, t.OmittedWithFindings = 0, 0
		listed := 0
		for c := range t.r.eachConnectionBrief() {
			if t.Capped && (len(c.Findings) == 0 || listed == htmlMaxConnections) {
				t.Omitted++
				if len(c.Findings) > 0 {
					t.OmittedWithFindings++
				}
				continue
			}
			listed++
			if !yield(c) {
				return
			}
		}
	}
}

// htmlUserRows is the user table: the users listed and how many were left
// out.
type htmlUserRows struct {
	Rows    []analyzer.User
	Omitted int
}

// newHTMLUserRows keeps every user with verbose or when there are no more
// than htmlMaxUsers, in the report's order; else the htmlMaxUsers with the
// most failed and abandoned handshakes, most first (ties in the report's
// order).
func newHTMLUserRows(users []analyzer.User, verbose bool) htmlUserRows {
	if verbose {
		return htmlUserRows{Rows: users}
	}
	rows, omitted := cutUsers(users, htmlMaxUsers)
	return htmlUserRows{Rows: rows, Omitted: omitted}
}
