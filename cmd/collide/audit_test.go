package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// auditProfiles are the quick built-ins the end-to-end audit runs (about a
// second of attack each).
var auditProfiles = []string{"counter", "double-submit"}

// runAudit runs `collide audit` on the quick built-ins in mode and returns
// the exit code, stdout and the audit read back. An inconclusive audit (exit
// 4: too many unknown outcomes on a loaded machine) proves nothing either
// way and is repeated, at most twice; a wrong verdict is never retried.
func runAudit(t *testing.T, mode string) (int, string, string, *report.AuditReport) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		out := filepath.Join(t.TempDir(), "audit")
		args := append([]string{"audit", "-q", "-out", out, "-set", "target.demo.mode=" + mode, "-auditor", "audit test"}, auditProfiles...)
		code, stdout, stderr := collide(t, args...)
		if code == 4 && attempt < 3 {
			t.Logf("%s: inconclusive (exit 4) on attempt %d; running again", mode, attempt)
			continue
		}
		b, err := os.ReadFile(filepath.Join(out, auditJSONFile))
		if err != nil {
			t.Fatalf("exit %d, no audit.json: %v\nstderr: %s", code, err, stderr)
		}
		var a report.AuditReport
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{auditMarkdownFile, auditHTMLFile, auditJUnitFile} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("audit folder lacks %s: %v", f, err)
			}
		}
		for _, p := range auditProfiles {
			r, err := report.ReadFile(filepath.Join(out, auditRunsDir, p))
			if err != nil {
				t.Errorf("run folder of %s: %v", p, err)
				continue
			}
			if r.Target != "demo ("+mode+")" {
				t.Errorf("%s ran against %s: -set did not apply to every profile", p, r.Target)
			}
			for _, f := range []string{"history.jsonl", report.VegetaFile} {
				if _, err := os.Stat(filepath.Join(out, auditRunsDir, p, f)); err != nil {
					t.Errorf("run folder of %s lacks %s", p, f)
				}
			}
		}
		md, err := os.ReadFile(filepath.Join(out, auditMarkdownFile))
		if err != nil {
			t.Fatal(err)
		}
		checkAuditJUnit(t, filepath.Join(out, auditJUnitFile), code)
		return code, stdout, string(md), &a
	}
}

// checkAuditJUnit: the audit's JUnit validates against the schema, and its
// audit suite fails exactly when the audit does.
func checkAuditJUnit(t *testing.T, path string, code int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 1+len(auditProfiles) || doc.Suites[0].Name != report.AuditSuiteName {
		t.Fatalf("junit suites %+v: want the audit's and one per run", doc.Suites)
	}
	if s := doc.Suites[0]; s.Tests != 2 || (s.Failures > 0) != (code == 1) {
		t.Errorf("audit suite %+v for exit %d", s, code)
	}
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		if out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("..", "..", "report", "testdata", "junit.xsd"), path).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, out)
		}
	}
}

// TestAuditEndToEnd: `collide audit` runs two built-ins against the
// in-process demo. Racy: score FAIL, exit 1, the failed tests named by
// TEST-RC id with their evidence. Safe: score PASS, exit 0.
func TestAuditEndToEnd(t *testing.T) {
	t.Run("racy", func(t *testing.T) {
		code, stdout, md, a := runAudit(t, "racy")
		if code != 1 || a.Score != report.ScoreFail || a.ExitCode != 1 {
			t.Fatalf("exit %d, score %s (%s), want exit 1 and FAIL\n%s", code, a.Score, a.ScoreReason, md)
		}
		for _, id := range []string{"TEST-RC-001", "TEST-RC-006"} {
			var row *report.AuditTest
			for i := range a.Tests {
				if a.Tests[i].ID == id {
					row = &a.Tests[i]
				}
			}
			if row == nil || row.Result != report.ResultFail || len(row.Evidence) < 2 {
				t.Fatalf("%s: %+v, want FAIL with evidence", id, row)
			}
			if !strings.Contains(stdout, id) {
				t.Errorf("stdout does not name %s:\n%s", id, stdout)
			}
		}
		for _, want := range []string{
			"| TEST-RC-001 | Double-click", "Duplicates created: yes",
			"| TEST-RC-006 | Counter consistency", "Expected: ", "violated",
			"## Score: FAIL", "## Findings", "(runs/counter/)",
		} {
			if !strings.Contains(strings.Join(strings.Fields(md), " "), strings.Join(strings.Fields(want), " ")) {
				t.Errorf("audit.md lacks %q:\n%s", want, md)
			}
		}
		if !strings.Contains(stdout, "score: FAIL") {
			t.Errorf("stdout lacks the score:\n%s", stdout)
		}
	})
	t.Run("safe", func(t *testing.T) {
		code, stdout, md, a := runAudit(t, "safe")
		if code != 0 || a.Score != report.ScorePass {
			t.Fatalf("exit %d, score %s (%s), want exit 0 and PASS\n%s", code, a.Score, a.ScoreReason, md)
		}
		if !strings.Contains(md, "## Score: PASS") || !strings.Contains(stdout, "score: PASS") {
			t.Errorf("score not PASS in the report or stdout:\n%s\n%s", md, stdout)
		}
	})
}

// TestAuditUsage: a bad profile name, a bad flag or two profiles of one name
// are one line on stderr and exit 2, before anything runs or is written.
func TestAuditUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown profile", []string{"counter", "no-such-profile"}, "collide audit: no-such-profile: no such file, and no built-in profile of that name"},
		{"bad format", []string{"-format", "xml", "counter"}, `collide audit: -format "xml": want table, markdown or none`},
		{"same profile twice", []string{"counter", "counter"}, `each profile of an audit needs a name of its own`},
		{"bad override", []string{"-set", "operations[0].rat=5/s", "counter"}, "operations[0].rat: unknown field"},
		{"profile only a run rejects", []string{"counter", filepath.Join("..", "..", "testdata", "bad-profiles", "run-unknown-checker.yaml")}, `unknown checker "telepathy"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "audit")
			code, stdout, stderr := collide(t, append([]string{"audit", "-out", out}, tc.args...)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("stderr %q: want one line containing %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("audit folder written before the arguments were checked (%v)", err)
			}
		})
	}
}

// TestAuditInterrupted: an audit stopped before its runs writes a report
// that says so — every test NOT RUN, score PARTIAL — and exits 130.
func TestAuditInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "audit")
	var stdout, stderr bytes.Buffer
	code := dispatch(ctx, []string{"audit", "-q", "-out", out, "counter", "locks"}, &stdout, &stderr)
	if code != 130 {
		t.Fatalf("exit %d, want 130; stderr: %s", code, stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(out, auditMarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Score: PARTIAL", "| TEST-RC-006 | Counter consistency | ➖ NOT RUN", "did not run (audit stopped before it)"} {
		if !strings.Contains(strings.Join(strings.Fields(string(md)), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("audit.md lacks %q:\n%s", want, md)
		}
	}
}

// TestAuditUserProfileOnPostgres: a user profile without audit metadata runs
// next to a built-in and is reported as unassigned; -set switches both to
// PostgreSQL; the DSN's password appears in none of the audit's files.
func TestAuditUserProfileOnPostgres(t *testing.T) {
	dsn := testpg.New(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	if password == "" {
		t.Skip("the test database has no password to look for")
	}
	user := filepath.Join(t.TempDir(), "my-check.yaml")
	if err := os.WriteFile(user, []byte(`name: my-check
target:
  demo: {mode: safe}
database:
  driver: sqlite
operations:
  - name: get
    request: {method: GET, url: /counters/1}
    rate: 20/s
    duration: 500ms
invariants:
  - name: the counter table is readable
    query: SELECT COUNT(*) AS n FROM counters
    expect: n >= 0
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "audit")
	code, _, stderr := collide(t, "audit", "-q", "-out", out, "-format", "none",
		"-set", "database.driver=postgres", "-set", "database.dsn="+dsn, "-set", "target.demo.mode=racy",
		"counter", user)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (counter fails on the racy demo); stderr: %s", code, stderr)
	}
	md, err := os.ReadFile(filepath.Join(out, auditMarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(md)), " ")
	for _, want := range []string{"## System: demo (racy) on postgres", "| unassigned | profiles without audit metadata | ✅ PASS", "## Score: FAIL"} {
		if !strings.Contains(flat, want) {
			t.Errorf("audit.md lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{auditMarkdownFile, auditHTMLFile, auditJUnitFile, auditJSONFile} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), ":"+password+"@") {
			t.Errorf("%s holds the database password", f)
		}
	}
}

// TestAuditSIGINT: one SIGINT to a real `collide audit` process during its
// first run stops that run (INTERRUPTED) and skips the rest (NOT RUN); the
// report is still written, and the process exits 130.
func TestAuditSIGINT(t *testing.T) {
	bin := collideBinary(t)
	dir := t.TempDir()
	long := filepath.Join(dir, "long.yaml")
	if err := os.WriteFile(long, []byte(`name: long
audit: {id: TEST-RC-006, resource: counters.value}
target:
  demo: {mode: safe}
database:
  driver: sqlite
setup:
  - DELETE FROM counters
  - INSERT INTO counters(id, value) VALUES (1, 0)
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    rate: 20/s
    duration: 60s
invariants:
  - name: counted
    query: SELECT value FROM counters WHERE id = 1
    expect: value >= ok("incr") && value <= ok("incr") + unknown("incr")
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "audit")
	cmd := exec.Command(bin, "audit", "-q", "-format", "none", "-out", out, long, "counter")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait until the first run has sent requests.
	hist := filepath.Join(out, auditRunsDir, "long", "history.jsonl")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st, err := os.Stat(hist); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the first run sent nothing within 30s; stderr:\n%s", stderr.String())
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd, done, 30*time.Second, &stderr); code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, auditJSONFile))
	if err != nil {
		t.Fatalf("no report after SIGINT: %v", err)
	}
	var a report.AuditReport
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.ExitCode != 130 || a.Score != report.ScorePartial || len(a.Points) != 2 ||
		a.Points[0].Verdict != report.ResultInterrupted || a.Points[1].Verdict != report.ResultNotRun {
		t.Fatalf("report after SIGINT: exit %d, score %s, points %+v", a.ExitCode, a.Score, a.Points)
	}
}

// TestAuditLeavesOutWhatNeedsAnotherDatabase: the default suite leaves out
// compound-op when the database it needs is not there — set to SQLite, or
// its PostgreSQL not answering — and keeps it when it answers.
func TestAuditLeavesOutWhatNeedsAnotherDatabase(t *testing.T) {
	ctx := context.Background()
	load := func(t *testing.T, sets ...string) (*profiles.Profile, error) {
		t.Helper()
		p, err := profiles.Load("compound-op", sets)
		if err != nil {
			return nil, err
		}
		return p, harness.Validate(p)
	}
	t.Run("set to sqlite", func(t *testing.T) {
		p, err := load(t, "database.driver=sqlite")
		if why := needsOtherDatabase(ctx, p, err, false); !strings.Contains(why, "SQL wire protocol") {
			t.Errorf("why = %q, want the wire-protocol refusal", why)
		}
	})
	t.Run("postgres not answering", func(t *testing.T) {
		t.Setenv("COLLIDE_PG_DSN", "postgres://collide:s3cret@127.0.0.1:1/collide?sslmode=disable")
		p, err := load(t)
		why := needsOtherDatabase(ctx, p, err, true)
		if !strings.Contains(why, "does not answer") || strings.Contains(why, "s3cret") {
			t.Errorf("why = %q, want 'does not answer' with the password hidden", why)
		}
	})
	t.Run("postgres answering", func(t *testing.T) {
		dsn := os.Getenv("COLLIDE_TEST_PG_DSN")
		if dsn == "" {
			dsn = "postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable"
		}
		t.Setenv("COLLIDE_PG_DSN", dsn)
		p, err := load(t)
		if err != nil {
			t.Fatal(err)
		}
		if why := needsOtherDatabase(ctx, p, nil, true); why != "" {
			t.Skipf("PostgreSQL at %s does not answer here: %s", dsn, why)
		}
	})
}
