package lab

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "keep the captures and truths the live lab makes in testdata/lab")

// keptDir holds the captures the lab produced (scripts/regen-lab-captures.sh).
const keptDir = "../../testdata/lab"

// skipOrFail skips the test with why, or fails it when the environment
// requires the lab (NTLMSCOPE_REQUIRE_LAB=1, set by CI).
func skipOrFail(t *testing.T, why error) {
	t.Helper()
	if Required() {
		t.Fatalf("%v (%s=1)", why, RequireEnv)
	}
	t.Skipf("lab skipped: %v (set %s=1 to make this a failure)", why, RequireEnv)
}

// TestLab runs every scenario live with real programs, one after the other
// (each takes a fraction of a second; in parallel they would only compete
// for the CPU and tcpdump's ring), checks that the lab
// did what the scenario says (from the backends' and clients' own
// accounts), then checks ntlmscope's report on the client leg, the upstream
// leg and both.
func TestLab(t *testing.T) {
	if err := Check(); err != nil {
		skipOrFail(t, err)
	}
	start := time.Now()
	t.Cleanup(func() { t.Logf("lab: %d scenarios in %v", len(Scenarios()), time.Since(start).Round(time.Millisecond)) })
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			if err := s.Available(); err != nil {
				skipOrFail(t, err)
			}
			out, err := Run(t, s, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("ran in %v", out.Duration.Round(time.Millisecond))
			if !checkTruth(t, s, out.Truth) {
				return // the lab misbehaved: its captures prove nothing
			}
			if *update {
				keep(t, s, out)
			}
			checkReports(t, s, out.FilesFor)
			keepFailed(t, s, out)
			t.Run("live-capture", func(t *testing.T) { checkLive(t, s, out) })
		})
	}
}

// lossyProbability is the share of packets TestLabLossy drops, in each of
// the two hooks (see Loss): a few packets of every scenario.
const lossyProbability = 0.04

// lossyAttempts is how often TestLabLossy runs a scenario whose run proved
// nothing: its programs did not do what it says (under loss a balancer may
// give up on a backend whose SYN and SYN-ACK were both dropped: haproxy's
// 502; a client may give up), which is the lab's doing, not ntlmscope's; or
// no packet happened to be dropped (the smallest scenarios have some 16).
const lossyAttempts = 4

// TestLabLossy runs every scenario again while the kernel drops packets of
// its block at random (Loss), so that real TCP stacks retransmit: the
// captures hold holes filled later and packets seen twice, and the reports
// must say exactly what the lossless runs say: the same verdict, findings,
// users and counts, and no gap (every byte was captured in the end). At 12 %
// it found a server answering a SYN sent again with a SYN-ACK of another
// ISN (TestReassemblerSYNACKWithNewISN).
func TestLabLossy(t *testing.T) {
	if testing.Short() {
		t.Skip("lossy lab: -short")
	}
	if err := Check(); err != nil {
		skipOrFail(t, err)
	}
	if err := lossCheck(); err != nil {
		skipOrFail(t, err)
	}
	var dropped int64
	t.Cleanup(func() {
		t.Logf("lossy lab: %d packets dropped in all", dropped)
		if dropped == 0 && !t.Skipped() {
			t.Errorf("no packet was dropped: the loss rules did nothing, and the test proved nothing")
		}
	})
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			if err := s.Available(); err != nil {
				skipOrFail(t, err)
			}
			for attempt := 1; ; attempt++ {
				last := attempt == lossyAttempts
				if attempt > 1 {
					// The last run's sockets may still be retransmitting.
					if err := waitQuiet(NetFor(s.Number), time.Minute); err != nil {
						t.Fatal(err)
					}
				}
				out, err := RunWith(t, s, t.TempDir(), RunOptions{Loss: Loss{Probability: lossyProbability}})
				if err != nil {
					if last {
						t.Fatalf("%d attempts; the last: %v", attempt, err)
					}
					t.Logf("attempt %d: the lab failed under loss: %v", attempt, err)
					continue
				}
				dropped += out.Dropped
				t.Logf("attempt %d ran in %v, %d packets dropped", attempt, out.Duration.Round(time.Millisecond), out.Dropped)
				problems := truthProblems(s, out.Truth)
				if len(problems) == 0 && (out.Dropped > 0 || last) {
					checkReports(t, s, out.FilesFor)
					keepFailed(t, s, out)
					return
				}
				if len(problems) == 0 {
					continue // nothing dropped: run it again
				}
				t.Logf("the lab did not do what the scenario says under loss, so its captures prove nothing:\n%s",
					strings.Join(problems, "\n"))
				if last {
					logTruth(t, out.Truth)
					t.Fatalf("%d attempts, none went as the scenario says", attempt)
				}
			}
		})
	}
}

// TestLabCaptures checks ntlmscope on the captures the lab produced and
// kept in testdata/lab: no programs needed.
func TestLabCaptures(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			truth, err := ReadTruth(keptPath(s.Name + ".truth.json"))
			if errors.Is(err, fs.ErrNotExist) && len(s.Needs) > 0 {
				t.Skipf("no kept capture (the scenario needs %v): run scripts/regen-lab-captures.sh where it can run", s.Needs)
			}
			if err != nil {
				t.Fatalf("%v: run scripts/regen-lab-captures.sh", err)
			}
			checkTruth(t, s, truth)
			checkReports(t, s, viewFiles(func(v View) string { return keptCapture(s, v) }))
		})
	}
}

// lossyDir holds captures of lossy runs (TestLabLossy) that ntlmscope once
// got wrong, in a folder per run named after its scenario number
// ("scenario4-a"), each with the scenario's client and upstream legs.
const lossyDir = "../../testdata/lab/lossy"

// TestLabLossyCaptures checks ntlmscope on the kept lossy captures against
// their scenario's expectations. Both scenario4 runs (nginx sharing backend
// connections at 12 % loss) held a Type 3 up 11–15 s after its Type 2, and
// the link window then kept them apart: an abandoned handshake and a Type 3
// without challenge instead of six failed handshakes.
func TestLabLossyCaptures(t *testing.T) {
	runs, err := filepath.Glob(filepath.Join(lossyDir, "scenario*"))
	if err != nil || len(runs) == 0 {
		t.Fatalf("no lossy captures in %s (%v)", lossyDir, err)
	}
	for _, dir := range runs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			num, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), "scenario"), "-")
			var s *Scenario
			for _, sc := range Scenarios() {
				if fmt.Sprint(sc.Number) == num {
					s = sc
				}
			}
			if s == nil {
				t.Fatalf("no scenario %s", num)
			}
			checkReports(t, s, viewFiles(func(v View) string { return filepath.Join(dir, s.Name+"-"+string(v)+".pcap") }))
		})
	}
}

// checkTruth checks that the run went as the scenario says, from the
// programs' own accounts; it reports whether it did.
func checkTruth(t *testing.T, s *Scenario, truth *Truth) bool {
	t.Helper()
	problems := truthProblems(s, truth)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		logTruth(t, truth)
	}
	return len(problems) == 0
}

// truthProblems says where the run did not go as the scenario says.
func truthProblems(s *Scenario, truth *Truth) []string {
	var problems []string
	results := truth.Type3Results()
	if len(s.Type3Results) == 0 && len(results) > 0 {
		problems = append(problems, fmt.Sprintf("lab: backends saw Type 3 messages %v, the scenario expects none", results))
	}
	for _, r := range results {
		if len(s.Type3Results) > 0 && !slices.Contains(s.Type3Results, r) {
			problems = append(problems, fmt.Sprintf("lab: a backend answered a Type 3 %q, the scenario allows %v (all: %v)", r, s.Type3Results, results))
		}
	}
	if got, want := truth.ClientUsers(), s.Expect[ViewClient].Users; !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("lab: clients saw\n %v\nthe scenario expects\n %v", got, want))
	}
	upstream := ViewUpstream
	if s.Topology == Direct {
		upstream = ViewClient
	}
	if got, want := truth.ServerUsers(), s.Expect[upstream].Users; !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("lab: backends saw\n %v\nthe scenario expects\n %v", got, want))
	}
	return problems
}

// logTruth logs the backends' and clients' accounts of a run.
func logTruth(t *testing.T, truth *Truth) {
	t.Helper()
	for _, e := range truth.Backends {
		t.Logf("backend log: %s conn %d %s %s step %s → %d %s user %q challenge from %q",
			e.Backend, e.Conn, e.Remote, e.Path, e.Step, e.Status, e.Result, e.User, e.ChallengeFrom)
	}
	for _, l := range truth.Clients {
		t.Logf("client: %s %s %s step %s proxy %v → %d", l.User, l.Local, l.Path, l.Step, l.Proxy, l.Status)
	}
}

// keepFailedEnv names a folder where a failed lab test leaves its run's
// captures, to be read with ntlmscope, tshark or Wireshark.
const keepFailedEnv = "NTLMSCOPE_LAB_KEEP_FAILED"

// keepFailed copies a failed test's captures and key log into the folder
// $NTLMSCOPE_LAB_KEEP_FAILED names, if any.
func keepFailed(t *testing.T, s *Scenario, out *Outcome) {
	t.Helper()
	dir := os.Getenv(keepFailedEnv)
	if dir == "" || !t.Failed() {
		return
	}
	dir = filepath.Join(dir, fmt.Sprintf("%s-%d", s.Name, time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("%s: %v", keepFailedEnv, err)
		return
	}
	paths := slices.Collect(maps.Values(out.Files))
	if out.KeyLog != "" {
		paths = append(paths, out.KeyLog)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
		}
		if err != nil {
			t.Errorf("%s: %v", keepFailedEnv, err)
			return
		}
	}
	t.Logf("the run's captures are in %s", dir)
}

// keep copies a run's captures, key log and truth into testdata/lab.
func keep(t *testing.T, s *Scenario, out *Outcome) {
	t.Helper()
	if err := os.MkdirAll(keptDir, 0o755); err != nil {
		t.Fatal(err)
	}
	copies := map[string]string{}
	for v, path := range out.Files {
		copies[path] = keptCapture(s, v)
	}
	if out.KeyLog != "" {
		// Next to the kept client leg, where checkReports looks for it.
		copies[out.KeyLog] = keyLogOf(keptCapture(s, ViewClient))
	}
	for from, to := range copies {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Truth.WriteFile(keptPath(s.Name + ".truth.json")); err != nil {
		t.Fatal(err)
	}
}

func keptPath(name string) string { return filepath.Join(keptDir, name) }

func keptCapture(s *Scenario, v View) string {
	return keptPath(s.Name + "-" + string(v) + ".pcap")
}

// checkLive checks the report of `ntlmscope capture -i lo`, taken during
// the scenario: it covers every leg in one file, so it must meet the
// expectations of the view that covers them all, and the pcapng it wrote
// must give the same answer offline.
func checkLive(t *testing.T, s *Scenario, out *Outcome) {
	view := ViewBoth
	if s.Topology == Direct {
		view = ViewClient
	}
	want, ok := s.Expect[view]
	if !ok {
		t.Fatalf("scenario %s declares no expectation for the %s view", s.Name, view)
	}
	live, err := out.Live.ReadReport()
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, live, want)
	offline := analyze(t, []string{out.Live.File}, out.KeyLogsFor(view)...)
	if live.Verdict.Code != offline.Verdict.Code || live.Summary != offline.Summary {
		t.Errorf("live report and offline analysis of its capture differ:\nlive    %s %+v\noffline %s %+v",
			live.Verdict.Code, live.Summary, offline.Verdict.Code, offline.Summary)
	}
	t.Logf("live report:\n%s", describe(live))
}
