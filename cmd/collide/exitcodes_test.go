package main

import (
	"html"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/collide-dev/collide/report"
)

// TestExitCodePrecedence: when several endings meet in one run, one rule
// picks the exit code — usage 2 > interrupted 130 > fail 1 > error 3 >
// inconclusive 4 > pass 0 (docs/reliability.md#exit-codes) — and every
// output says the same: the process exit code, the verdict line on stdout,
// result.json (verdict and exit_code), and the table, markdown, JUnit and
// HTML reports rendered from it. Each case goes through the real CLI
// dispatch against the in-process demo on SQLite.
func TestExitCodePrecedence(t *testing.T) {
	const (
		breakExpect = "invariants[0].expect=value < 0" // a proven violation
		// SQL that prepares but fails when it runs (SQLite's abs() of the
		// smallest integer): the checker cannot run. SQL that does not parse
		// never gets this far: the run stops before the attack with exit 2.
		breakUnique  = "invariants[1].unique=SELECT id FROM counters WHERE abs(-9223372036854775808) > 0"
		allUnknown   = "chaos=[{link: target, fault: timeout, timeout: 0s}]" // no response ever arrives
		teardownFail = "teardown=[DELETE FROM no_such_table]"
	)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		verdict  report.Verdict // "" when the profile is refused before a run folder exists
		invs     []string       // verdict of each invariant in result.json
		inLine   string         // in the verdict line
		noResult bool
	}{
		{name: "pass", code: 0, verdict: report.Pass, invs: []string{"pass", "pass"}},
		{name: "fail", args: []string{breakExpect}, code: 1, verdict: report.Fail, invs: []string{"fail", "pass"}, inLine: `"counted" violated`},
		{name: "checker error", args: []string{breakUnique}, code: 3, verdict: report.Error, invs: []string{"pass", "error"}, inLine: "a checker could not run"},
		{name: "fail beats checker error", args: []string{breakExpect, breakUnique}, code: 1, verdict: report.Fail, invs: []string{"fail", "error"},
			inLine: `and could not check "one row per counter"`},
		{name: "inconclusive", args: []string{allUnknown}, code: 4, verdict: report.Unknown, invs: []string{"pass", "pass"}, inLine: "unknown outcomes"},
		{name: "checker error beats inconclusive", args: []string{allUnknown, breakUnique}, code: 3, verdict: report.Error, invs: []string{"pass", "error"}},
		{name: "fail beats inconclusive", args: []string{allUnknown, breakExpect}, code: 1, verdict: report.Fail, invs: []string{"fail", "pass"}},
		{name: "failed teardown turns a pass into an error", args: []string{teardownFail}, code: 3, verdict: report.Error, invs: []string{"pass", "pass"}, inLine: "teardown"},
		{name: "failed teardown never masks a fail", args: []string{teardownFail, breakExpect}, code: 1, verdict: report.Fail, invs: []string{"fail", "pass"}},
		{name: "refused target is a usage error", args: []string{"target.url=http://192.0.2.10:8080", "target.demo=null"}, code: 2, verdict: report.Error, inLine: "allow-remote"},
		{name: "query that does not parse is a usage error before any load", args: []string{"invariants[1].unique=SELEC id FROM counters"}, code: 2, verdict: report.Error, inLine: "invariants[1].unique: sqlite rejects"},
		{name: "bad profile is a usage error", args: []string{"operations[0].rate=fast"}, code: 2, noResult: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("COLLIDE_TEST_SQLITE", filepath.Join(t.TempDir(), "x.db"))
			out := t.TempDir()
			args := []string{"run", "-q", "-out", out}
			for _, s := range tc.args {
				args = append(args, "-set", s)
			}
			code, stdout, stderr := collide(t, append(args, profile("precedence"))...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			res, err := report.ReadFile(filepath.Join(out, "result.json"))
			if tc.noResult {
				if err == nil {
					t.Fatalf("a refused profile wrote result.json (verdict %s)", res.Verdict)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict || res.ExitCode != tc.code {
				t.Fatalf("result.json: verdict %s exit_code %d, want %s %d", res.Verdict, res.ExitCode, tc.verdict, tc.code)
			}
			var got []string
			for _, inv := range res.Invariants {
				got = append(got, string(inv.Verdict))
			}
			if strings.Join(got, ",") != strings.Join(tc.invs, ",") {
				t.Fatalf("invariant verdicts %v, want %v", got, tc.invs)
			}
			line := report.VerdictLine(res)
			head := "verdict: " + strings.ToUpper(string(tc.verdict)) + " (exit " + strconv.Itoa(tc.code) + ")"
			if !strings.HasPrefix(line, head) || !strings.Contains(line, tc.inLine) {
				t.Fatalf("verdict line %q: want it to start %q and hold %q", line, head, tc.inLine)
			}
			if !strings.Contains(stdout, head) {
				t.Fatalf("stdout lacks %q:\n%s", head, stdout)
			}
			for _, format := range []string{"table", "markdown", "junit", "html"} {
				rc, rendered, rerr := collide(t, "report", "-format", format, out)
				if rc != 0 {
					t.Fatalf("report -format %s: exit %d: %s", format, rc, rerr)
				}
				rendered = html.UnescapeString(rendered)
				want := head
				if format == "junit" {
					want = `name="exit_code" value="` + strconv.Itoa(tc.code) + `"`
					if !strings.Contains(rendered, `name="verdict" value="`+string(tc.verdict)+`"`) {
						t.Fatalf("junit lacks verdict %s:\n%s", tc.verdict, rendered)
					}
				}
				if !strings.Contains(rendered, want) {
					t.Fatalf("report -format %s lacks %q:\n%s", format, want, rendered)
				}
			}
		})
	}
}
