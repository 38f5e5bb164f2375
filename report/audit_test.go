package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/profiles"
)

// auditFixture builds an audit from fixture run folders (../testdata/runs),
// each given its profile name and audit metadata.
func auditFixture(t *testing.T, runs ...AuditRun) *AuditReport {
	t.Helper()
	info := AuditInfo{System: "demo (racy and safe) on sqlite", Date: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC), Auditor: "collide test"}
	return NewAuditReport(info, runs)
}

func fixtureRun(t *testing.T, dir, profile string, audit *profiles.Audit) AuditRun {
	t.Helper()
	r := loadFixture(t, dir).Result
	return AuditRun{Profile: profile, Audit: audit, Dir: "runs/" + profile, ExitCode: r.ExitCode, Result: r}
}

var (
	auditCounter = &profiles.Audit{ID: "TEST-RC-006", Resource: "counters.value", Protection: "atomic increment"}
	auditDouble  = &profiles.Audit{ID: "TEST-RC-001", Resource: "orders (one per Idempotency-Key)", Pattern: "double submit of one create", Protection: "idempotency key"}
	auditOwn     = &profiles.Audit{ID: "SEC-OVERSELL", Resource: "products.stock <b>", Title: "Oversell | stock"}
	auditLocks   = &profiles.Audit{ID: "TEST-RC-007", Resource: "named locks"}
)

// auditCases are the audits whose reports are golden files: one per score,
// and one stopped by a signal.
func auditCases(t *testing.T) []struct {
	name      string
	audit     *AuditReport
	score     Score
	exit      int
	failedIDs []string
} {
	return []struct {
		name      string
		audit     *AuditReport
		score     Score
		exit      int
		failedIDs []string
	}{
		{"fail", auditFixture(t,
			fixtureRun(t, "2026-11-21/counter", "counter", auditCounter),
			fixtureRun(t, "2026-11-20/double-submit", "double-submit", auditDouble),
			fixtureRun(t, "errors/checker-error", "oversell", auditOwn),
		), ScoreFail, 1, []string{"TEST-RC-006"}},
		{"partial", auditFixture(t,
			fixtureRun(t, "2026-11-20/double-submit", "double-submit", auditDouble),
			fixtureRun(t, "2026-11-21/double-submit", "my-profile", nil),
		), ScorePartial, 4, nil},
		{"pass", auditFixture(t,
			fixtureRun(t, "2026-11-20/counter", "counter", auditCounter),
			fixtureRun(t, "2026-11-20/double-submit", "double-submit", auditDouble),
		), ScorePass, 0, nil},
		{"interrupted", auditFixture(t,
			fixtureRun(t, "2026-11-21/counter", "counter", auditCounter),
			AuditRun{Profile: "locks", Audit: auditLocks, ExitCode: 130},
		), ScoreFail, 130, []string{"TEST-RC-006"}},
	}
}

// TestAuditGolden renders every audit case as Markdown, JUnit and (the
// failing one) HTML and compares with testdata/golden/audit-*; go test
// ./report -run TestAuditGolden -update rewrites them.
func TestAuditGolden(t *testing.T) {
	for _, tc := range auditCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.audit
			if a.Score != tc.score || a.ExitCode != tc.exit {
				t.Errorf("score %s exit %d, want %s exit %d (%s)", a.Score, a.ExitCode, tc.score, tc.exit, a.ScoreReason)
			}
			var failed []string
			for _, at := range a.Tests {
				if at.Result == ResultFail {
					failed = append(failed, at.ID)
				}
			}
			if strings.Join(failed, ",") != strings.Join(tc.failedIDs, ",") {
				t.Errorf("failed tests %v, want %v", failed, tc.failedIDs)
			}
			if len(a.Tests) < 7 {
				t.Fatalf("%d test rows: the audit's seven always show", len(a.Tests))
			}
			for i, at := range a.Tests[:7] {
				if at.ID != auditTests[i].id {
					t.Errorf("row %d is %s, want %s", i, at.ID, auditTests[i].id)
				}
			}

			var md bytes.Buffer
			if err := AuditMarkdown(&md, a); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "audit-"+tc.name+".md", md.Bytes())

			var ju bytes.Buffer
			if err := AuditJUnit(&ju, a); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "audit-"+tc.name+".junit.xml", ju.Bytes())
			validateJUnit(t, ju.Bytes())

			if tc.name == "fail" {
				var h bytes.Buffer
				if err := AuditHTML(&h, a); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, "audit-"+tc.name+".html", h.Bytes())
				if strings.Contains(h.String(), "<b>") {
					t.Error("html: text from a profile was not escaped")
				}
			}
		})
	}
}

// TestAuditReportContent: the report names every failed test with its
// evidence, in the template's order, and the JUnit suite counts what CI
// reads.
func TestAuditReportContent(t *testing.T) {
	a := auditCases(t)[0].audit
	var md bytes.Buffer
	if err := AuditMarkdown(&md, a); err != nil {
		t.Fatal(err)
	}
	s := md.String()
	order := []string{
		"# Concurrency & Race Condition Audit Report", "## System: ", "## Date: 2026-11-21", "## Auditor: collide test",
		"## Concurrent Access Points Identified", "counters.value", "## Test Results",
		"TEST-RC-001", "Duplicates created: no", "TEST-RC-006", "❌ FAIL", "Expected: ", "acknowledged",
		"TEST-RC-007", "NOT RUN", "SEC-OVERSELL", "Oversell \\| stock", "⚠️ ERROR",
		"## Score: FAIL", "Rule: ", "## Findings", "## Runs", "runs/counter",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(s[at:], want)
		if i < 0 {
			t.Fatalf("markdown lacks %q after offset %d:\n%s", want, at, s)
		}
		at += i + len(want)
	}
	if strings.Contains(s, "<b>") {
		t.Error("markdown: text from a profile was not escaped")
	}

	var ju bytes.Buffer
	if err := AuditJUnit(&ju, a); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(ju.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 4 || doc.Suites[0].Name != AuditSuiteName {
		t.Fatalf("suites %+v: want the audit's, then one per run", doc.Suites)
	}
	if s := doc.Suites[0]; s.Tests != 3 || s.Failures != 1 || s.Errors != 1 {
		t.Errorf("audit suite %+v: want 3 tests (RC-001, RC-006, SEC-OVERSELL), 1 failure, 1 error", s)
	}
}

// TestWorstExitCode: the audit's exit code follows the worst run.
func TestWorstExitCode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codes []int
		want  int
	}{
		{"none", nil, 0},
		{"all pass", []int{0, 0}, 0},
		{"inconclusive", []int{0, 4}, 4},
		{"error beats inconclusive", []int{4, 3, 0}, 3},
		{"violation beats error", []int{3, 1, 4}, 1},
		{"usage beats violation", []int{1, 2}, 2},
		{"interrupted beats all", []int{1, 130, 2}, 130},
		{"an unknown code counts as an error", []int{0, 42}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := WorstExitCode(tc.codes...); got != tc.want {
				t.Errorf("WorstExitCode(%v) = %d, want %d", tc.codes, got, tc.want)
			}
		})
	}
}

// TestAuditAnswers: each test's first evidence line answers the audit's
// question from what its runs found — from a run that failed when one did.
func TestAuditAnswers(t *testing.T) {
	pass := func(p string, a *profiles.Audit) AuditRun { return fixtureRun(t, "2026-11-20/counter", p, a) }
	fail := func(p string, a *profiles.Audit) AuditRun { return fixtureRun(t, "2026-11-21/counter", p, a) }
	unknown := func(p string, a *profiles.Audit) AuditRun { return fixtureRun(t, "2026-11-21/double-submit", p, a) }
	rc := func(id string) *profiles.Audit { return &profiles.Audit{ID: id, Resource: "r"} }
	for _, tc := range []struct {
		name   string
		runs   []AuditRun
		id     string
		result TestResult
		want   string
	}{
		{"counter: the failed run's numbers, though a passing one ran first",
			[]AuditRun{pass("a", rc("TEST-RC-006")), fail("b", rc("TEST-RC-006"))}, "TEST-RC-006", ResultFail, "actual: value=913"},
		{"counter passed", []AuditRun{pass("a", rc("TEST-RC-006"))}, "TEST-RC-006", ResultPass, "Expected: value - before.value"},
		{"double click failed, with what was found", []AuditRun{fail("a", rc("TEST-RC-001"))}, "TEST-RC-001", ResultFail, "Duplicates created: yes — value=913"},
		{"two-tab inconclusive", []AuditRun{unknown("a", rc("TEST-RC-002"))}, "TEST-RC-002", ResultInconclusive, "Conflict detected: not determined (inconclusive)"},
		{"bulk passed", []AuditRun{pass("a", rc("TEST-RC-005"))}, "TEST-RC-005", ResultPass, "Consistent state: yes"},
		{"own id passed", []AuditRun{pass("a", rc("SEC-X"))}, "SEC-X", ResultPass, "Violation found: no"},
		{"one pass and one fail is a fail", []AuditRun{pass("a", rc("TEST-RC-003")), fail("b", rc("TEST-RC-003"))}, "TEST-RC-003", ResultFail, "Data lost: yes"},
		{"not run after an interrupt", []AuditRun{{Profile: "a", Audit: rc("TEST-RC-004"), ExitCode: 130}}, "TEST-RC-004", ResultNotRun, "Stale data surfaced: not determined (not run)"},
		{"no profile performs it", []AuditRun{pass("a", rc("TEST-RC-006"))}, "TEST-RC-007", ResultNotRun, "no profile in this audit performs TEST-RC-007"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := auditFixture(t, tc.runs...)
			for _, at := range a.Tests {
				if at.ID != tc.id {
					continue
				}
				if at.Result != tc.result || len(at.Evidence) == 0 || !strings.Contains(at.Evidence[0], tc.want) {
					t.Fatalf("%s: %s %q, want %s and %q", tc.id, at.Result, at.Evidence, tc.result, tc.want)
				}
				return
			}
			t.Fatalf("no row %s", tc.id)
		})
	}
}
