package invariants

import (
	"fmt"
	"time"
)

// Verdict is the outcome of one check and, in report.Result, of a whole
// run: report.Verdict is this type. A check returns one of the first four;
// Interrupted is only ever a run's verdict.
type Verdict string

const (
	// Pass means the invariant held (of a run: every invariant held and few
	// enough outcomes were unknown).
	Pass Verdict = "pass"
	// Fail means the invariant was violated; Evidence says where.
	Fail Verdict = "fail"
	// Unknown means nothing was violated but too little is known to be sure.
	// The harness turns a pass into unknown when the share of unknown ops
	// exceeds the profile's threshold. Checkers return it when they cannot
	// decide: linearizable when its search outlasts its timeout; counter
	// and bounded_debits (and their per_key forms) when unknown ops lost the
	// amount they take from a capture (value_from), so their bound is open.
	Unknown Verdict = "unknown"
	// Error means the check could not run (query error, database down,
	// expression error). It is never a pass. Of a run: the run or a checker
	// could not complete.
	Error Verdict = "error"
	// Interrupted means a run was stopped by a signal or timeout before
	// checking. No check returns it.
	Interrupted Verdict = "interrupted"
)

// Valid reports whether v is one of the four verdicts a check returns
// (Interrupted is not).
func (v Verdict) Valid() bool { return v == Pass || v == Fail || v == Unknown || v == Error }

// MaxEvidence is the most Evidence items a Result carries.
const MaxEvidence = 10

// MaxOps is the most operations a Result's Ops names.
const MaxOps = 10

// Result is what one checker found.
type Result struct {
	// Name is the invariant's sentence from the profile.
	Name string `json:"name"`
	// Check is the checker's registered name.
	Check string `json:"check"`
	// Verdict is pass, fail, unknown or error.
	Verdict Verdict `json:"verdict"`
	// Expected says what had to hold, e.g. the expression or "every row unique".
	Expected string `json:"expected,omitempty"`
	// Actual says what was found, e.g. `value=812, ok("incr")=1000, unknown("incr")=0`.
	Actual string `json:"actual,omitempty"`
	// Evidence lists offending values or rows, at most MaxEvidence items.
	Evidence []string `json:"evidence,omitempty"`
	// Anomaly names the race class seen, e.g. "lost update", "duplicate".
	Anomaly string `json:"anomaly,omitempty"`
	// Fix lists the usual fixes, in one line.
	Fix string `json:"fix,omitempty"`
	// Explanation is one sentence, in the domain's words, saying how the
	// violation came about: "Let … Then …" (set on a fail).
	Explanation string `json:"explanation,omitempty"`
	// Ops are the operations the explanation names: where the class allows
	// one, the smallest set of operations that proves the violation (the
	// writes that shared a base version, the two overlapping holders …);
	// else a few of the acknowledged operations involved, at most MaxOps.
	Ops []OpRef `json:"ops,omitempty"`
	// MoreOps counts the operations involved that Ops leaves out.
	MoreOps int `json:"more_ops,omitempty"`
	// Error says why the check could not run (Verdict error).
	Error string `json:"error,omitempty"`
	// Took is how long the check ran.
	Took time.Duration `json:"took"`
}

// errorResult is the Result of a check that could not run.
func errorResult(name, check string, start time.Time, format string, args ...any) Result {
	return Result{
		Name:    name,
		Check:   check,
		Verdict: Error,
		Error:   fmt.Sprintf(format, args...),
		Took:    time.Since(start),
	}
}

// addEvidence appends s unless the Result already holds MaxEvidence items.
func (r *Result) addEvidence(s string) {
	if len(r.Evidence) < MaxEvidence {
		r.Evidence = append(r.Evidence, s)
	}
}
