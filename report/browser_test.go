package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ntlmscope/ntlmscope/analyzer"
)

// The first screen the "done when" of the report issue speaks of.
const viewW, viewH = 1280, 800

// inCI reports whether a missing tool is a failure rather than a skip.
func inCI() bool {
	return os.Getenv("CI") == "true" || os.Getenv("NTLMSCOPE_REQUIRE_SHARED") != ""
}

// browser is a headless Chromium for the HTML tests.
type browser struct {
	ctx context.Context
}

// startBrowser starts Debian's chromium, headless. Without one the test
// skips, except in CI where it fails: the HTML report is only checked when
// a real browser renders it.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	fail := t.Skipf
	if inCI() {
		fail = t.Fatalf
	}
	exe := os.Getenv("NTLMSCOPE_CHROMIUM")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(exe); err != nil {
		fail("Chromium not found at %s (make test installs Debian's chromium; NTLMSCOPE_CHROMIUM names another): %v", exe, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(viewW, viewH),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	start, cancelStart := context.WithTimeout(ctx, 60*time.Second)
	defer cancelStart()
	// The first Run starts the browser; it must not carry the timeout
	// (that would end the browser with it), so the start is watched apart.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-done:
		if err != nil {
			fail("Chromium does not start: %v", err)
		}
	case <-start.Done():
		fail("Chromium did not start within 60 s")
	}
	return &browser{ctx: ctx}
}

// page is what a test learns from one loaded report.
type pageProblems struct {
	mu       sync.Mutex
	problems []string
}

func (p *pageProblems) add(s string) {
	p.mu.Lock()
	p.problems = append(p.problems, s)
	p.mu.Unlock()
}

func (p *pageProblems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// open loads an HTML report from a file in a fresh tab at 1280×800 and
// collects console errors, exceptions, logged errors (CSP violations among
// them) and any request for something other than the file itself.
func (b *browser) open(t *testing.T, path string) (context.Context, *pageProblems) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	probs := &pageProblems{}
	url := "file://" + path
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				probs.add(fmt.Sprintf("console.%s: %s", ev.Type, argsText(ev.Args)))
			}
		case *runtime.EventExceptionThrown:
			probs.add("exception: " + ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				probs.add(fmt.Sprintf("log %s: %s", ev.Entry.Source, ev.Entry.Text))
			}
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; u != url && !strings.HasPrefix(u, "data:") {
				probs.add("fetched " + u)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	enable := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, log.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
		return err
	})
	if err := chromedp.Do(ctx, enable, chromedp.EmulateViewport(viewW, viewH), chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return ctx, probs
}

func argsText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		if a.Value != nil {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

// firstScreen is what the page's top shows, measured in the browser.
type firstScreen struct {
	// Visible maps an element to "" when it lies wholly inside the first
	// 1280×800 screen and is shown, else to why not.
	Visible map[string]string `json:"visible"`
	Text    map[string]string `json:"text"`
}

// firstScreenJS measures the elements the top of a report must show
// without scrolling or expanding anything.
const firstScreenJS = `(() => {
  const sel = {verdict: "#verdict", users: "#affected-users", range: "#time-range", backends: "#backends",
    evidence: "#evidence", filter: "#evidence-filter", remedy: "#remedy li"};
  const out = {visible: {}, text: {}};
  window.scrollTo(0, 0);
  for (const [k, s] of Object.entries(sel)) {
    const el = document.querySelector(s);
    if (!el) { out.visible[k] = "missing"; continue; }
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    let why = "";
    if (r.width <= 0 || r.height <= 0 || cs.display === "none" || cs.visibility === "hidden") why = "not shown";
    else if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth)
      why = "outside the first screen: " + JSON.stringify([r.left, r.top, r.right, r.bottom]) + " of " + innerWidth + "x" + innerHeight;
    else if (el.closest("details:not([open])")) why = "inside a closed details";
    out.visible[k] = why;
    out.text[k] = el.innerText;
  }
  return out;
})()`

func measure(t *testing.T, ctx context.Context) firstScreen {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](firstScreenJS))
	if err != nil {
		t.Fatal(err)
	}
	var fs firstScreen
	if err := json.Unmarshal(raw, &fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

// checkFirstScreen asserts the "done when": without scrolling or
// expanding, the verdict in one sentence, the affected users with their
// failed-handshake counts, the time range, the backends involved, the
// strongest evidence with its tcp.stream filter, and the remedy.
func checkFirstScreen(t *testing.T, fs firstScreen, r *analyzer.Report) {
	t.Helper()
	for k, why := range fs.Visible {
		if why != "" {
			t.Errorf("%s: %s", k, why)
		}
	}
	g := newGlance(plainModel(r))
	if !strings.Contains(fs.Text["verdict"], g.Title+".") {
		t.Errorf("verdict shows %q, want the sentence %q", fs.Text["verdict"], g.Title+".")
	}
	for _, u := range g.Affected {
		want := u.Name + ": " + failedOf(u.Failed, u.Abandoned, u.Handshakes, "handshake")
		if g.AnyFailed && !strings.Contains(fs.Text["users"], want) {
			t.Errorf("affected users show %q, want %q", fs.Text["users"], want)
		}
	}
	if !strings.Contains(fs.Text["range"], timeText(r.Source.FirstSeen)) {
		t.Errorf("time range shows %q, want it to start at %s", fs.Text["range"], timeText(r.Source.FirstSeen))
	}
	for _, b := range g.Backends {
		if b.Identity != "" && !strings.Contains(fs.Text["backends"], b.Identity) {
			t.Errorf("backends show %q, want %s", fs.Text["backends"], b.Identity)
		}
	}
	if !strings.HasPrefix(fs.Text["filter"], "tcp.stream eq ") || fs.Text["filter"] != g.Filter {
		t.Errorf("evidence filter shows %q, want %q", fs.Text["filter"], g.Filter)
	}
	if g.Evidence == nil || !strings.Contains(fs.Text["evidence"], g.Evidence.Code) {
		t.Errorf("evidence shows %q, want the strongest finding", fs.Text["evidence"])
	}
	if len(r.Verdict.Remedies) == 0 || strings.TrimSpace(fs.Text["remedy"]) != r.Verdict.Remedies[0] {
		t.Errorf("remedy shows %q, want %q", fs.Text["remedy"], r.Verdict.Remedies)
	}
}

// belowJS scrolls to the user table and the first open ladder diagram and
// says whether each is then on screen; ladderFailed says whether a failed
// handshake is drawn highlighted.
const belowJS = `(() => {
  const shown = (el) => { if (!el) return "missing"; el.scrollIntoView({block: "start"});
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top < innerHeight && r.bottom > 0 ? "" : "not on screen"; };
  const out = {
    userTable: shown(document.querySelector("#user-table")),
    userRows: document.querySelectorAll("#user-table tbody tr").length,
    ladder: shown(document.querySelector("details[open] svg.ladder-svg")),
    ladders: document.querySelectorAll("svg.ladder-svg").length,
    ladderArrows: document.querySelectorAll("svg.ladder-svg line.arrow").length,
    ladderFailed: document.querySelectorAll("svg.ladder-svg line.arrow.failed").length,
    timelineRows: document.querySelectorAll("svg rect.bar").length,
  };
  window.scrollTo(0, 0);
  return out;
})()`

type below struct {
	UserTable    string `json:"userTable"`
	UserRows     int    `json:"userRows"`
	Ladder       string `json:"ladder"`
	Ladders      int    `json:"ladders"`
	LadderArrows int    `json:"ladderArrows"`
	LadderFailed int    `json:"ladderFailed"`
	TimelineRows int    `json:"timelineRows"`
}

func measureBelow(t *testing.T, ctx context.Context) below {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](belowJS))
	if err != nil {
		t.Fatal(err)
	}
	var b below
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// screenshots writes the first screen and the whole page under dir (and
// under $NTLMSCOPE_SCREENSHOT_DIR when set, to look at them).
func screenshots(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	first, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shots := map[string][]byte{"-first-screen.png": first, "-full.png": full}
	media := func(m string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
			return err
		})
	}
	if err := chromedp.Do(ctx, media("print")); err != nil {
		t.Fatal(err)
	}
	if shots["-print.png"], err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, media("")); err != nil {
		t.Fatal(err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("details.ladder[open]").length`)); n > 0 {
		ladder, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("details.ladder[open]")))
		if err != nil {
			t.Fatal(err)
		}
		shots["-ladder.png"] = ladder
	}
	for _, d := range []string{dir, os.Getenv("NTLMSCOPE_SCREENSHOT_DIR")} {
		if d == "" {
			continue
		}
		for suffix, png := range shots {
			if err := os.WriteFile(filepath.Join(d, name+suffix), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("screenshots: %s", filepath.Join(dir, name+"-first-screen.png"))
}

// printPDF prints the page: @media print must give a PDF without errors.
func printPDF(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	pdf, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{})
		return res.Data, err
	})
	if err != nil {
		t.Fatalf("printing: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("printing gave no PDF (%d bytes)", len(pdf))
	}
	return pdf
}

// writeHTML renders r as HTML into dir and returns the file's path.
func writeHTML(t *testing.T, dir, name string, r *analyzer.Report, opts Options) string {
	t.Helper()
	path := filepath.Join(dir, name+".html")
	if err := os.WriteFile(path, render(t, "html", opts, r), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
