package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
)

// Score is the overall result of an audit, as the audit report template of
// shared/seeds/000 names it.
type Score string

const (
	// ScorePass: every run of the audit passed.
	ScorePass Score = "PASS"
	// ScorePartial: no run found a violation, but at least one could not
	// decide (inconclusive, error, interrupted or not run): part of the
	// audit is unverified.
	ScorePartial Score = "PARTIAL"
	// ScoreFail: at least one run found a violation.
	ScoreFail Score = "FAIL"
)

// TestResult is the result of one audit test or access point: the run's
// verdict in the report's words, plus NOT RUN.
type TestResult string

const (
	ResultPass         TestResult = "PASS"
	ResultFail         TestResult = "FAIL"
	ResultInconclusive TestResult = "INCONCLUSIVE"
	ResultError        TestResult = "ERROR"
	ResultInterrupted  TestResult = "INTERRUPTED"
	// ResultNotRun: no run decided it — the audit was stopped before the
	// profile ran, or (for a test of the audit) no profile performs it.
	ResultNotRun TestResult = "NOT RUN"
)

// AuditRun is one profile's run within an audit.
type AuditRun struct {
	// Profile is the profile's name.
	Profile string `json:"profile"`
	// Audit is the profile's audit metadata; nil lists the run as unassigned.
	Audit *profiles.Audit `json:"audit,omitempty"`
	// Dir is the run folder, relative to the audit folder ("" when the run
	// never started).
	Dir string `json:"dir,omitempty"`
	// ExitCode is the run's exit code, as `collide run` would exit.
	ExitCode int `json:"exit_code"`
	// Error says why the run has no result, or why it ended in error.
	Error string `json:"error,omitempty"`
	// Result is the run's result; nil when the run never started (audit
	// interrupted before it) or failed before its run folder existed.
	Result *Result `json:"-"`
}

// Verdict is the run's result in the report's words.
func (r AuditRun) Verdict() TestResult {
	if r.Result == nil {
		if r.ExitCode == 130 || r.Error == "" {
			return ResultNotRun
		}
		return ResultError
	}
	switch r.Result.Verdict {
	case Pass:
		return ResultPass
	case Fail:
		return ResultFail
	case Unknown:
		return ResultInconclusive
	case Interrupted:
		return ResultInterrupted
	default:
		return ResultError
	}
}

// AuditInfo heads the report.
type AuditInfo struct {
	// System is the system audited.
	System string `json:"system"`
	// Date is when the audit started.
	Date time.Time `json:"date"`
	// Auditor is who (or what) ran the audit.
	Auditor string `json:"auditor"`
}

// AuditReport is the Concurrency & Race Condition Audit Report: the runs of
// an audit and what is derived from them. Build it with NewAuditReport.
type AuditReport struct {
	// SchemaVersion is audit.json's OutputSchemaVersion.
	SchemaVersion int `json:"schema_version"`
	AuditInfo
	// Score is PASS, PARTIAL or FAIL (ScoreRule states the rule).
	Score Score `json:"score"`
	// ScoreReason says in one sentence why the score is what it is.
	ScoreReason string `json:"score_reason"`
	// ExitCode is the audit's exit code: the worst run's (WorstExitCode).
	ExitCode int `json:"exit_code"`
	// Points are the concurrent access points, one per run, in run order.
	Points []AccessPoint `json:"access_points"`
	// Tests are the test results: the audit's seven tests first, then other
	// ids in order, then unassigned profiles.
	Tests []AuditTest `json:"tests"`
	// Runs are the runs, in the order they ran.
	Runs []AuditRun `json:"runs"`
}

// AccessPoint is one row of "Concurrent Access Points Identified".
type AccessPoint struct {
	Resource   string     `json:"resource"`
	Pattern    string     `json:"pattern"`
	Protection string     `json:"protection"`
	TestID     string     `json:"test_id"`
	Profile    string     `json:"profile"`
	Verdict    TestResult `json:"verdict"`
}

// AuditTest is one row of "Test Results": an audit test id and every run
// that performed it.
type AuditTest struct {
	// ID is the test id; "" for profiles without audit metadata.
	ID          string     `json:"id"`
	Description string     `json:"description"`
	Result      TestResult `json:"result"`
	// Evidence is the audit's question answered ("Duplicates created: yes"),
	// then per run what the checkers found.
	Evidence []string `json:"evidence"`
	// Profiles are the profiles that performed the test, in run order.
	Profiles []string `json:"profiles,omitempty"`
}

// auditTest is one of the audit's own tests (shared/seeds/000).
type auditTest struct {
	id, title, pattern string
	// question is the template's evidence line; answer gives its answer for
	// a run that failed (true) or passed (false).
	question    string
	failAnswer  string
	passAnswer  string
	counterLike bool // evidence is "Expected: …, actual: …"
}

// auditTests are TEST-RC-001 … 007 with the template's descriptions,
// evidence questions and the scope table's access patterns.
var auditTests = []auditTest{
	{id: "TEST-RC-001", title: "Double-click", pattern: "double-click / double-submit", question: "Duplicates created", failAnswer: "yes", passAnswer: "no"},
	{id: "TEST-RC-002", title: "Two-tab editing", pattern: "two tabs editing the same resource", question: "Conflict detected", failAnswer: "no", passAnswer: "yes"},
	{id: "TEST-RC-003", title: "Two users", pattern: "two users editing the same resource", question: "Data lost", failAnswer: "yes", passAnswer: "no"},
	{id: "TEST-RC-004", title: "Delayed job", pattern: "delayed job completing after a newer one", question: "Stale data surfaced", failAnswer: "yes", passAnswer: "no"},
	{id: "TEST-RC-005", title: "Bulk + individual", pattern: "bulk operation and individual edit", question: "Consistent state", failAnswer: "no", passAnswer: "yes"},
	{id: "TEST-RC-006", title: "Counter consistency", pattern: "read-modify-write of a counter", counterLike: true},
	{id: "TEST-RC-007", title: "Lock verification", pattern: "workers competing for one lock", question: "One holder at a time, orphaned locks cleaned", failAnswer: "no", passAnswer: "yes"},
}

func findAuditTest(id string) (auditTest, bool) {
	for _, t := range auditTests {
		if t.id == id {
			return t, true
		}
	}
	return auditTest{}, false
}

// ScoreRule states how the score is decided; every format prints it.
const ScoreRule = "PASS: every run passed. FAIL: at least one run found a violation. " +
	"PARTIAL: nothing violated, but at least one run was inconclusive, in error, interrupted or not run. " +
	"Audit tests no profile performs are listed as NOT RUN and do not count."

// NewAuditReport derives the access points, the test results, the score and
// the exit code from runs, in the order they ran.
func NewAuditReport(info AuditInfo, runs []AuditRun) *AuditReport {
	a := &AuditReport{SchemaVersion: OutputSchemaVersion, AuditInfo: info, Runs: runs}
	codes := make([]int, 0, len(runs))
	var failed, undecided []string
	for _, r := range runs {
		codes = append(codes, r.ExitCode)
		v := r.Verdict()
		switch v {
		case ResultFail:
			failed = append(failed, r.Profile)
		case ResultPass:
		default:
			undecided = append(undecided, r.Profile)
		}
		a.Points = append(a.Points, accessPoint(r, v))
	}
	a.ExitCode = WorstExitCode(codes...)
	switch {
	case len(runs) == 0:
		a.Score, a.ScoreReason = ScorePartial, "no profile ran"
	case len(failed) > 0:
		a.Score = ScoreFail
		a.ScoreReason = fmt.Sprintf("%d of %d runs found a violation: %s", len(failed), len(runs), strings.Join(failed, ", "))
		if len(undecided) > 0 {
			a.ScoreReason += fmt.Sprintf("; %d undecided: %s", len(undecided), strings.Join(undecided, ", "))
		}
	case len(undecided) > 0:
		a.Score = ScorePartial
		a.ScoreReason = fmt.Sprintf("no violation found, but %d of %d runs undecided: %s", len(undecided), len(runs), strings.Join(undecided, ", "))
	default:
		a.Score = ScorePass
		a.ScoreReason = fmt.Sprintf("all %d runs passed", len(runs))
	}
	a.Tests = auditTestResults(runs)
	return a
}

func accessPoint(r AuditRun, v TestResult) AccessPoint {
	p := AccessPoint{Profile: r.Profile, Verdict: v, Resource: r.Profile, Pattern: "not stated", Protection: "not stated", TestID: "unassigned"}
	if m := r.Audit; m != nil {
		p.TestID, p.Resource = m.ID, m.Resource
		if m.Pattern != "" {
			p.Pattern = m.Pattern
		} else if t, ok := findAuditTest(m.ID); ok {
			p.Pattern = t.pattern
		}
		if m.Protection != "" {
			p.Protection = m.Protection
		}
	}
	return p
}

// auditTestResults groups the runs by test id: TEST-RC-001 … 007 always
// (NOT RUN when no profile performs one), then other ids sorted, then the
// runs without audit metadata.
func auditTestResults(runs []AuditRun) []AuditTest {
	byID := map[string][]AuditRun{}
	var others []string
	for _, r := range runs {
		id := ""
		if r.Audit != nil {
			id = r.Audit.ID
		}
		if _, known := findAuditTest(id); !known && id != "" && byID[id] == nil {
			others = append(others, id)
		}
		byID[id] = append(byID[id], r)
	}
	sort.Strings(others)
	var tests []AuditTest
	for _, t := range auditTests {
		tests = append(tests, auditTestRow(t.id, t.title, byID[t.id]))
	}
	for _, id := range others {
		rs := byID[id]
		title := rs[0].Profile
		for _, r := range rs {
			if r.Audit.Title != "" {
				title = r.Audit.Title
				break
			}
		}
		tests = append(tests, auditTestRow(id, title, rs))
	}
	if rs := byID[""]; len(rs) > 0 {
		tests = append(tests, auditTestRow("", "profiles without audit metadata", rs))
	}
	return tests
}

func auditTestRow(id, title string, runs []AuditRun) AuditTest {
	t := AuditTest{ID: id, Description: title, Result: ResultNotRun}
	if len(runs) == 0 {
		t.Evidence = []string{"no profile in this audit performs " + id}
		return t
	}
	verdicts := make([]TestResult, len(runs))
	for i, r := range runs {
		verdicts[i] = r.Verdict()
		t.Profiles = append(t.Profiles, r.Profile)
	}
	t.Result = worstResult(verdicts...)
	if q := answer(id, t.Result, runs); q != "" {
		t.Evidence = append(t.Evidence, q)
	}
	for _, r := range runs {
		for _, e := range runEvidence(r) {
			t.Evidence = append(t.Evidence, r.Profile+": "+e)
		}
	}
	return t
}

// answer is the template's evidence line for test id, answered from the
// test's result.
func answer(id string, res TestResult, runs []AuditRun) string {
	t, ok := findAuditTest(id)
	if !ok {
		t = auditTest{question: "Violation found", failAnswer: "yes", passAnswer: "no"}
	}
	if t.counterLike {
		// The first violated invariant of any run, else the first invariant
		// of the first run that has one.
		var first *invariants.Result
		for _, r := range runs {
			if r.Result == nil {
				continue
			}
			if inv, ok := decidingInvariant(r.Result); ok {
				if inv.Verdict == invariants.Fail || res != ResultFail {
					return fmt.Sprintf("Expected: %s, actual: %s", firstNonEmpty(inv.Expected, "not stated"), firstNonEmpty(inv.Actual, "not stated"))
				}
				if first == nil {
					first = &inv
				}
			}
		}
		if first != nil {
			return fmt.Sprintf("Expected: %s, actual: %s", firstNonEmpty(first.Expected, "not stated"), firstNonEmpty(first.Actual, "not stated"))
		}
		return "Expected: not determined, actual: not determined (" + strings.ToLower(string(res)) + ")"
	}
	switch res {
	case ResultFail:
		for _, r := range runs {
			if r.Result == nil {
				continue
			}
			if inv, ok := decidingInvariant(r.Result); ok && inv.Verdict == invariants.Fail && inv.Actual != "" {
				return t.question + ": " + t.failAnswer + " — " + inv.Actual
			}
		}
		return t.question + ": " + t.failAnswer
	case ResultPass:
		return t.question + ": " + t.passAnswer
	}
	return t.question + ": not determined (" + strings.ToLower(string(res)) + ")"
}

// decidingInvariant is the first failed invariant of r, else its first
// invariant.
func decidingInvariant(r *Result) (invariants.Result, bool) {
	for _, inv := range r.Invariants {
		if inv.Verdict == invariants.Fail {
			return inv, true
		}
	}
	if len(r.Invariants) > 0 {
		return r.Invariants[0], true
	}
	return invariants.Result{}, false
}

// maxAuditEvidence bounds the evidence items quoted per failed invariant.
const maxAuditEvidence = 3

// runEvidence is what a run found, one line each: every invariant that did
// not pass with what was found and its first evidence items; for a run that
// passed, how many invariants held over how many requests.
func runEvidence(r AuditRun) []string {
	res := r.Result
	if res == nil {
		if r.Error != "" {
			return []string{"did not run: " + r.Error}
		}
		return []string{"did not run (audit stopped before it)"}
	}
	var out []string
	held := 0
	for _, inv := range res.Invariants {
		switch inv.Verdict {
		case invariants.Pass:
			held++
			continue
		case invariants.Fail:
			line := fmt.Sprintf("%q violated", inv.Name)
			if inv.Anomaly != "" {
				line += " (" + inv.Anomaly + ")"
			}
			if inv.Actual != "" {
				line += ": " + inv.Actual
			}
			out = append(out, line)
			if inv.Explanation != "" {
				out = append(out, "explanation: "+inv.Explanation)
			}
			for i, e := range inv.Evidence {
				if i == maxAuditEvidence {
					out = append(out, fmt.Sprintf("evidence: %d more items (see the findings)", len(inv.Evidence)-i))
					break
				}
				out = append(out, "evidence: "+e)
			}
		case invariants.Unknown:
			out = append(out, fmt.Sprintf("%q inconclusive: %s", inv.Name, firstNonEmpty(inv.Error, inv.Actual, "too many unknown outcomes")))
		default:
			out = append(out, fmt.Sprintf("%q could not be checked: %s", inv.Name, firstNonEmpty(inv.Error, "no reason given")))
		}
	}
	switch res.Verdict {
	case Pass:
		out = append(out, fmt.Sprintf("%d of %d invariants held over %d requests (%d ok, %d fail, %d unknown)",
			held, len(res.Invariants), res.Totals.Total(), res.Totals.OK, res.Totals.Fail, res.Totals.Unknown))
	case Unknown:
		out = append(out, fmt.Sprintf("no invariant violated, but %.0f%% of requests had unknown outcomes (limit %.0f%%)",
			100*res.UnknownFraction, 100*res.MaxUnknown))
	case Error, Interrupted:
		if res.Error != "" {
			out = append(out, string(res.Verdict)+": "+res.Error)
		}
	}
	return out
}

// resultRank orders test results from best to worst, with the rule of
// docs/reliability.md: a violation found is the strongest news.
var resultRank = map[TestResult]int{
	ResultPass: 0, ResultNotRun: 1, ResultInconclusive: 2, ResultInterrupted: 3, ResultError: 4, ResultFail: 5,
}

// worstResult is the worst of rs; PASS for none.
func worstResult(rs ...TestResult) TestResult {
	w := ResultPass
	for _, r := range rs {
		if resultRank[r] > resultRank[w] {
			w = r
		}
	}
	return w
}

// exitRank orders exit codes from best to worst for an audit: interrupted
// (130) and a usage or profile error (2) stop the audit's meaning; then a
// violation (1) outranks an environment error (3) — as within one run,
// docs/reliability.md — which outranks inconclusive (4); 0 is best.
// Unrecognised codes count as environment errors.
var exitRank = map[int]int{0: 0, 4: 1, 3: 2, 1: 3, 2: 4, 130: 5}

// WorstExitCode is the audit's exit code: the worst of the runs' codes
// (130 > 2 > 1 > 3 > 4 > 0); 0 for none.
func WorstExitCode(codes ...int) int {
	worst := 0
	for _, c := range codes {
		rc, ok := exitRank[c]
		if !ok {
			c, rc = 3, exitRank[3]
		}
		if rc > exitRank[worst] {
			worst = c
		}
	}
	return worst
}
