package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestHTMLInBrowser opens HTML reports in a real headless Chromium: no
// console errors and nothing fetched; the verdict, the affected users, the
// time range, the backends, the strongest evidence with its filter and the
// remedy within the first 1280×800 screen; the user table and a ladder
// diagram shown; sorting, filtering and printing work, also with the notes
// under the tables of a report over the HTML caps. Screenshots go to the
// test's temp dir.
func TestHTMLInBrowser(t *testing.T) {
	b := startBrowser(t)
	dir := t.TempDir()

	t.Run("broken balancer", func(t *testing.T) {
		r := balancerReport()
		ctx, probs := b.open(t, writeHTML(t, dir, "balancer", r, Options{}))
		checkFirstScreen(t, measure(t, ctx), r)
		bl := measureBelow(t, ctx)
		if bl.UserTable != "" || bl.UserRows != len(r.Users) {
			t.Errorf("user table: %q, %d rows, want %d", bl.UserTable, bl.UserRows, len(r.Users))
		}
		if bl.Ladder != "" || bl.Ladders != 4 || bl.LadderFailed == 0 {
			t.Errorf("ladders: %+v, want 4 shown with failed handshakes highlighted", bl)
		}
		if bl.TimelineRows != len(r.Connections) {
			t.Errorf("timeline has %d rows, want %d", bl.TimelineRows, len(r.Connections))
		}
		screenshots(t, ctx, dir, "balancer")
		checkTableScript(t, ctx)
		printPDF(t, ctx)
		for _, p := range probs.list() {
			t.Errorf("page problem: %s", p)
		}
	})

	for _, name := range []string{"healthy", "credentials", "no-ntlm"} {
		t.Run(name, func(t *testing.T) {
			ctx, probs := b.open(t, writeHTML(t, dir, name, fixtures()[name](), Options{}))
			fs := measure(t, ctx)
			if fs.Visible["verdict"] != "" || fs.Visible["range"] != "" {
				t.Errorf("first screen: %v", fs.Visible)
			}
			screenshots(t, ctx, dir, name)
			for _, p := range probs.list() {
				t.Errorf("page problem: %s", p)
			}
		})
	}

	// A report over the caps: the notes under the tables break neither
	// the page nor its table script.
	t.Run("capped", func(t *testing.T) {
		ctx, probs := b.open(t, writeHTML(t, dir, "capped", manyReport(2500, 2, 150, 120, 5, 70), Options{}))
		checkCappedScript(t, ctx)
		for _, p := range probs.list() {
			t.Errorf("page problem: %s", p)
		}
	})

	// Wire text that tries to be markup stays text: no element, no
	// dialog, no script error, nothing fetched.
	t.Run("hostile names", func(t *testing.T) {
		ctx, probs := b.open(t, writeHTML(t, dir, "hostile", hostileReport(), Options{}))
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](
			`document.querySelectorAll("img, main script, [onerror], [onload]").length + (window.__pwned ? 100 : 0)`))
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("wire text became %d elements or handlers", n)
		}
		for _, p := range probs.list() {
			t.Errorf("page problem: %s", p)
		}
	})

	// The harness itself must notice a page that fetches or logs errors.
	t.Run("problem detector", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.html")
		page := `<!DOCTYPE html><img src="http://192.0.2.1/x.png"><script>console.error("boom")</script>`
		if err := os.WriteFile(bad, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		_, probs := b.open(t, bad)
		got := strings.Join(probs.list(), "\n")
		if !strings.Contains(got, "boom") || !strings.Contains(got, "fetched http://192.0.2.1/x.png") {
			t.Errorf("the detector missed problems; it saw:\n%s", got)
		}
	})

	// The lab's broken-balancer capture: the "done when".
	for _, c := range labCaptures("scenario3-*.pcap*") {
		t.Run(filepath.Base(c), func(t *testing.T) {
			r := analyze(t, c)
			name := strings.TrimSuffix(filepath.Base(c), filepath.Ext(c))
			ctx, probs := b.open(t, writeHTML(t, dir, name, r, Options{}))
			checkFirstScreen(t, measure(t, ctx), r)
			if bl := measureBelow(t, ctx); bl.Ladder != "" || bl.UserTable != "" {
				t.Errorf("below the top: %+v", bl)
			}
			screenshots(t, ctx, dir, name)
			for _, p := range probs.list() {
				t.Errorf("page problem: %s", p)
			}
		})
	}

	t.Run("public captures", func(t *testing.T) {
		for _, c := range sharedCaptures(t) {
			r := analyze(t, c)
			ctx, probs := b.open(t, writeHTML(t, dir, filepath.Base(c), r, Options{}))
			if fs := measure(t, ctx); fs.Visible["verdict"] != "" {
				t.Errorf("%s: verdict %s", c, fs.Visible["verdict"])
			}
			if bl := measureBelow(t, ctx); r.Summary.Handshakes > 0 && bl.Ladders == 0 {
				t.Errorf("%s: NTLM handshakes but no ladder diagram", c)
			}
			for _, p := range probs.list() {
				t.Errorf("%s: page problem: %s", c, p)
			}
		}
	})
}

// checkTableScript sorts the user table by its Failed column and filters
// it, as a reader would.
func checkTableScript(t *testing.T, ctx context.Context) {
	t.Helper()
	sorted, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
	  const th = [...document.querySelectorAll("#user-table thead th")].find(h => h.textContent === "Requests");
	  th.click(); th.click();
	  return th.getAttribute("aria-sort") + ":" + document.querySelector("#user-table tbody tr td").textContent;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if sorted != `descending:CORP\alice` {
		t.Errorf("sorting by requests, descending: got %q", sorted)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`input[data-table="user-table"]`), "bob")); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#user-table tbody tr")].filter(r => !r.hidden).map(r => r.cells[0].textContent).join(",")`))
	if err != nil {
		t.Fatal(err)
	}
	if shown != `CORP\bob` {
		t.Errorf("filtering users by bob shows %q", shown)
	}
}

// checkCappedScript sorts the finding table by severity and the
// connection table by id, with the notes of a capped report under them:
// every row stays, the notes stay outside the tables, and the order is
// the one asked for.
func checkCappedScript(t *testing.T, ctx context.Context) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
	  const sortBy = (table, name) => {
	    const th = [...document.querySelectorAll("#" + table + " thead th")].find(h => h.textContent === name);
	    th.click(); th.click();
	    const rows = document.querySelectorAll("#" + table + " tbody tr");
	    return th.getAttribute("aria-sort") + " " + rows.length + " " + rows[0].cells[0].textContent.trim() + " " +
	      rows[rows.length - 1].cells[0].textContent.trim();
	  };
	  const note = (id) => { const el = document.getElementById(id);
	    return el && !el.closest("table") ? el.querySelectorAll("li").length || 1 : 0; };
	  return [sortBy("finding-table", "Severity"), sortBy("connection-table", "ID"),
	    note("findings-cut"), note("connections-cut")].join("|");
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "descending 205 error warning|descending 1000 1998 0|2|1"; got != want {
		t.Errorf("sorting the capped tables: got %q, want %q", got, want)
	}
}
