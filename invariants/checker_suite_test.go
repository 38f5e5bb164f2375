package invariants

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/dbtest"
	"github.com/collide-dev/collide/history"
)

// checkCase is one row of the shared checker suite: an invariant, the
// database state around Prepare, a tally, and what the check must say.
type checkCase struct {
	name   string
	inv    flatInv
	setup  []string          // run before Prepare (the profile's setup)
	attack []string          // run after Prepare (what the attack did)
	tally  map[string]counts // ok, fail, unknown per operation
	ops    []string          // Env.Operations
	// hist is the run's history, written to a file for Env.HistoryPath;
	// when tally is nil, the tally is the history's.
	hist []hOp
	// skipOn names drivers the case does not apply to, with the reason.
	skipOn map[string]string
	// skipPrepare leaves Prepare uncalled; closeDB closes the database
	// before Check.
	skipPrepare, closeDB bool

	newErr       string // New must fail with an error containing this
	prepareErr   string // Prepare must fail with an error containing this
	want         Verdict
	wantActual   string   // Actual must contain this
	wantEvidence []string // Evidence must equal this (when set)
	wantAnomaly  string
	wantError    string // Result.Error must contain this
}

const counterSetup = `CREATE TABLE counters (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)`

func counterAt(v string) []string {
	return []string{counterSetup, `INSERT INTO counters (id, value) VALUES (1, ` + v + `)`}
}

const bound = `value >= ok("incr") && value <= ok("incr") + unknown("incr")`

var incr8ok3unknown = map[string]counts{"incr": {8, 2, 3}}

var checkCases = []checkCase{
	// expect: the Jepsen bound ok ≤ value ≤ ok + unknown.
	{
		name:       "expect bound holds inside [ok, ok+unknown]",
		inv:        flatInv{Name: "counted", Query: `SELECT value FROM counters WHERE id = 1`, Expect: bound},
		setup:      counterAt("10"),
		tally:      incr8ok3unknown,
		want:       Pass,
		wantActual: `value=10, ok("incr")=8, unknown("incr")=3`,
	},
	{
		name:  "expect bound holds at ok exactly",
		inv:   flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: bound},
		setup: counterAt("8"),
		tally: incr8ok3unknown,
		want:  Pass,
	},
	{
		name:       "expect bound fails above ok+unknown (double count)",
		inv:        flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: bound},
		setup:      counterAt("12"),
		tally:      incr8ok3unknown,
		want:       Fail,
		wantActual: `value=12, ok("incr")=8, unknown("incr")=3`,
	},
	{
		name:       "expect bound fails below ok (lost update)",
		inv:        flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: bound},
		setup:      counterAt("7"),
		tally:      incr8ok3unknown,
		want:       Fail,
		wantActual: `value=7,`,
	},
	{
		name:   "expect compares NUMERIC with counts",
		inv:    flatInv{Query: `SELECT CAST(value AS NUMERIC) AS value FROM counters WHERE id = 1`, Expect: bound},
		setup:  counterAt("10"),
		tally:  incr8ok3unknown,
		want:   Pass,
		skipOn: map[string]string{"mysql": "MySQL has no CAST(… AS NUMERIC); DECIMAL is covered by the next case"},
	},
	{
		name:   "expect compares DECIMAL with counts",
		inv:    flatInv{Query: `SELECT CAST(value AS DECIMAL(20,2)) AS value FROM counters WHERE id = 1`, Expect: bound},
		setup:  counterAt("10"),
		tally:  incr8ok3unknown,
		want:   Pass,
		skipOn: map[string]string{"sqlite": "SQLite has no DECIMAL type"},
	},
	{
		name:  "expect compares a sum with counts",
		inv:   flatInv{Query: `SELECT sum(value) AS value FROM counters`, Expect: `value == ok("incr") + 2`},
		setup: counterAt("10"),
		tally: incr8ok3unknown,
		want:  Pass,
	},
	{
		name:  "expect history functions without arguments sum every operation",
		inv:   flatInv{Expect: `ok() == 9 && fail() == 2 && unknown() == 3 && total() == 14 && total("read") == 1`},
		tally: map[string]counts{"incr": {8, 2, 3}, "read": {1, 0, 0}},
		want:  Pass,
	},
	{
		name:  "expect operation with no requests counts zero when the profile names it",
		inv:   flatInv{Expect: `ok("refund") == 0`},
		tally: incr8ok3unknown,
		ops:   []string{"incr", "refund"},
		want:  Pass,
	},
	// before: the state after setup, before the attack.
	{
		name:   "expect before gives the delta of the attack",
		inv:    flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: `value - before.value >= ok("incr") && value - before.value <= ok("incr") + unknown("incr")`},
		setup:  counterAt("100"),
		attack: []string{`UPDATE counters SET value = 110 WHERE id = 1`},
		tally:  incr8ok3unknown,
		want:   Pass,
		// the values read, in the order they appear
		wantActual: `value=110, before.value=100, ok("incr")=8, unknown("incr")=3`,
	},
	{
		name:       "expect before delta catches a lost update",
		inv:        flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: `value - before.value >= ok("incr")`},
		setup:      counterAt("100"),
		attack:     []string{`UPDATE counters SET value = 105 WHERE id = 1`},
		tally:      incr8ok3unknown,
		want:       Fail,
		wantActual: `value=105, before.value=100, ok("incr")=8`,
	},
	{
		name:        "expect before without Prepare is an error",
		inv:         flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: `value >= before.value`},
		setup:       counterAt("100"),
		skipPrepare: true,
		want:        Error,
		wantError:   "Prepare",
	},
	{
		name:      "expect before with no row after setup is an error",
		inv:       flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: `value >= before.value`},
		setup:     []string{counterSetup},
		attack:    []string{`INSERT INTO counters VALUES (1, 5)`},
		want:      Error,
		wantError: "no rows after setup",
	},
	// rows and count.
	{
		name:  "expect count of no rows",
		inv:   flatInv{Query: `SELECT id FROM counters WHERE value < 0`, Expect: `count == 0`},
		setup: counterAt("3"),
		want:  Pass,
	},
	{
		name: "expect over rows fails with the rows as evidence",
		inv:  flatInv{Query: `SELECT id, value FROM counters WHERE value < 0 ORDER BY id`, Expect: `count == 0`},
		setup: []string{counterSetup,
			`INSERT INTO counters VALUES (1, -1), (2, 5), (3, -7)`},
		want:         Fail,
		wantActual:   "count=2",
		wantEvidence: []string{"id=1 value=-1", "id=3 value=-7"},
	},
	{
		name: "expect predicate over rows",
		inv:  flatInv{Query: `SELECT id, value FROM counters`, Expect: `all(rows, .value >= 0) && len(rows) == count && count(rows, .value > 4) == 1`},
		setup: []string{counterSetup,
			`INSERT INTO counters VALUES (1, 1), (2, 5), (3, 2)`},
		want: Pass,
	},
	{
		name:  "expect column named like a builtin",
		inv:   flatInv{Query: `SELECT max(value) AS max FROM counters`, Expect: `max <= ok("incr") + unknown("incr")`},
		setup: counterAt("10"),
		tally: incr8ok3unknown,
		want:  Pass,
	},
	// never pass when the check cannot run.
	{
		name:      "expect query error is an error",
		inv:       flatInv{Query: `SELECT value FROM no_such_table`, Expect: bound},
		tally:     incr8ok3unknown,
		want:      Error,
		wantError: "no_such_table",
	},
	{
		name:    "expect on a closed database is an error",
		inv:     flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: bound},
		setup:   counterAt("10"),
		tally:   incr8ok3unknown,
		closeDB: true,
		want:    Error,
	},
	{
		name:      "expect not a boolean is an error",
		inv:       flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: `value + 1`},
		setup:     counterAt("10"),
		want:      Error,
		wantError: "want true or false",
	},
	{
		name:      "expect NULL column is an error, not false",
		inv:       flatInv{Query: `SELECT NULL AS flag FROM counters`, Expect: `flag`},
		setup:     counterAt("10"),
		want:      Error,
		wantError: "want true or false",
	},
	{
		name:      "expect runtime error is an error",
		inv:       flatInv{Query: `SELECT value, 'x' AS s FROM counters WHERE id = 1`, Expect: `value > s`},
		setup:     counterAt("10"),
		want:      Error,
		wantError: "evaluate",
	},
	{
		name:      "expect column the query does not return is an error",
		inv:       flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: `valu >= ok("incr")`},
		setup:     counterAt("10"),
		tally:     incr8ok3unknown,
		want:      Error,
		wantError: "valu",
	},
	{
		name:      "expect column of an empty result is an error",
		inv:       flatInv{Query: `SELECT value FROM counters WHERE id = 2`, Expect: bound},
		setup:     counterAt("10"),
		tally:     incr8ok3unknown,
		want:      Error,
		wantError: "no rows",
	},
	{
		name:  "expect flow steps seen in the run are known operations",
		inv:   flatInv{Expect: `ok("edit.write") == 2 && fail("edit.read") == 1`},
		tally: map[string]counts{"edit.write": {2, 0, 0}, "edit.read": {3, 1, 0}},
		ops:   []string{"edit"},
		want:  Pass,
	},
	{
		name:      "expect unknown flow step is an error",
		inv:       flatInv{Expect: `ok("edit.wrte") == 2`},
		tally:     map[string]counts{"edit.write": {2, 0, 0}},
		ops:       []string{"edit"},
		want:      Error,
		wantError: `unknown operation "edit.wrte" (operations: edit, edit.write)`,
	},
	{
		name:      "expect unknown operation is an error, not a silent zero",
		inv:       flatInv{Query: `SELECT value FROM counters WHERE id = 1`, Expect: `value >= ok("incrr")`},
		setup:     counterAt("10"),
		tally:     incr8ok3unknown,
		want:      Error,
		wantError: `unknown operation "incrr" (operations: incr)`,
	},
	// unique.
	{
		name: "unique finds duplicates with evidence",
		inv:  flatInv{Name: "one order per key", Unique: `SELECT k FROM orders`},
		setup: []string{`CREATE TABLE orders (id INTEGER PRIMARY KEY, k TEXT)`,
			`INSERT INTO orders (id, k) VALUES (1, 'k-1'), (2, 'k-2'), (3, 'k-1'), (4, 'k-3'), (5, 'k-1'), (6, 'k-2'), (7, 'k-4')`},
		want:         Fail,
		wantAnomaly:  "duplicate",
		wantActual:   "2 duplicated values in 7 rows (3 extra rows)",
		wantEvidence: []string{`"k-1" ×3`, `"k-2" ×2`},
	},
	{
		name: "unique compares every column",
		inv:  flatInv{Unique: `SELECT account, seq FROM debits`},
		setup: []string{`CREATE TABLE debits (account TEXT, seq INTEGER)`,
			`INSERT INTO debits VALUES ('a', 1), ('a', 2), ('b', 1), ('a', 1)`},
		want:         Fail,
		wantActual:   "1 duplicated value in 4 rows (1 extra row)",
		wantEvidence: []string{`("a", 1) ×2`},
	},
	{
		name: "unique integer keys",
		inv:  flatInv{Unique: `SELECT event_id FROM applied`},
		setup: []string{`CREATE TABLE applied (event_id BIGINT)`,
			`INSERT INTO applied VALUES (17), (17), (18)`},
		want:         Fail,
		wantEvidence: []string{`17 ×2`},
	},
	{
		name: "unique passes on distinct rows",
		inv:  flatInv{Unique: `SELECT k FROM orders`},
		setup: []string{`CREATE TABLE orders (id INTEGER PRIMARY KEY, k TEXT)`,
			`INSERT INTO orders (id, k) VALUES (1, 'k-1'), (2, 'k-2'), (3, 'k-3')`},
		want:       Pass,
		wantActual: "3 rows, all unique",
	},
	{
		name: "unique skips NULLs as a UNIQUE constraint does",
		inv:  flatInv{Unique: `SELECT k FROM orders`},
		setup: []string{`CREATE TABLE orders (id INTEGER PRIMARY KEY, k TEXT)`,
			`INSERT INTO orders (id, k) VALUES (1, NULL), (2, NULL), (3, 'k-3')`},
		want:       Pass,
		wantActual: "3 rows, all unique; 2 rows with NULL skipped",
	},
	{
		name:       "unique via check and query",
		inv:        flatInv{Check: "unique", Query: `SELECT k FROM orders`},
		setup:      []string{`CREATE TABLE orders (k TEXT)`, `INSERT INTO orders VALUES ('x'), ('x')`},
		want:       Fail,
		wantActual: "1 duplicated value in 2 rows",
	},
	{
		name:      "unique query error is an error",
		inv:       flatInv{Unique: `SELECT k FROM no_such_table`},
		want:      Error,
		wantError: "no_such_table",
	},
	{
		name:    "unique on a closed database is an error",
		inv:     flatInv{Unique: `SELECT k FROM orders`},
		setup:   []string{`CREATE TABLE orders (k TEXT)`},
		closeDB: true,
		want:    Error,
	},
	// New rejects bad invariants at load time.
	{name: "new unknown checker", inv: flatInv{Check: "serializable", Query: "SELECT 1"}, newErr: `unknown checker "serializable" (known: all_present, bounded_debits, conservation, counter, exactly_one, expect, linearizable, locks, never_negative, newest_wins, no_lost_update, unique)`},
	{name: "new no checker", inv: flatInv{Name: "nothing"}, newErr: "nothing to check: set expect, unique or check"},
	{name: "new expect and unique together", inv: flatInv{Expect: "true", Unique: "SELECT 1"}, newErr: "both expect and unique"},
	{name: "new bad syntax", inv: flatInv{Query: "SELECT 1 AS value", Expect: `value >= `}, newErr: "unexpected token"},
	{name: "new unbalanced parenthesis", inv: flatInv{Query: "SELECT 1 AS value", Expect: `(value >= ok("incr")`}, newErr: "expect"},
	{name: "new unknown function", inv: flatInv{Query: "SELECT 1 AS value", Expect: `value >= okk("incr")`}, newErr: "unknown function okk()"},
	{name: "new history function with a number", inv: flatInv{Expect: `ok(1) > 0`}, newErr: "argument"},
	{name: "new history function with two operations", inv: flatInv{Expect: `ok("a", "b") > 0`}, newErr: "takes one operation"},
	{name: "new history function not called", inv: flatInv{Query: "SELECT 1 AS value", Expect: `value > ok`}, newErr: "is a function"},
	{name: "new constant not boolean", inv: flatInv{Expect: `ok("incr") + 1`}, newErr: "want a boolean"},
	{name: "new column without a query", inv: flatInv{Expect: `value >= ok("incr")`}, newErr: "unknown name value"},
	{name: "new before without a query", inv: flatInv{Expect: `before.value >= ok("incr")`}, newErr: "needs a query"},
	{name: "new empty expect", inv: flatInv{Check: "expect", Query: "SELECT 1"}, newErr: "expect is empty"},
	{name: "new empty unique", inv: flatInv{Check: "unique"}, newErr: "unique is empty"},
	{name: "new column and builtin of one name", inv: flatInv{Query: "SELECT 1 AS len", Expect: `len > len(rows)`}, newErr: "both as a column and as the builtin"},
}

// runCheckerSuite runs cases on databases from open; driver names the
// database for skipOn.
func runCheckerSuite(t *testing.T, driver string, open func(t *testing.T) database.DB, cases []checkCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if why, skip := tc.skipOn[driver]; skip {
				t.Skip(why)
			}
			ctx := context.Background()
			c, err := testNew(tc.inv)
			if tc.newErr != "" {
				if err == nil {
					t.Fatalf("New: no error, want one containing %q", tc.newErr)
				}
				if !strings.Contains(err.Error(), tc.newErr) {
					t.Fatalf("New error = %q, want it to contain %q", err, tc.newErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			db := open(t)
			dbtest.MustExec(t, db, tc.setup...)
			env := &Env{DB: db, Tally: newTally(tc.tally), Operations: tc.ops}
			if tc.hist != nil {
				var tally *history.Tally
				env.HistoryPath, tally = writeHistory(t, t.TempDir(), tc.hist)
				if tc.tally == nil {
					env.Tally = tally
				}
			}
			if p, ok := c.(Preparer); ok && !tc.skipPrepare {
				err := p.Prepare(ctx, env)
				switch {
				case tc.prepareErr == "" && err != nil:
					t.Fatalf("Prepare: %v", err)
				case tc.prepareErr != "" && (err == nil || !strings.Contains(err.Error(), tc.prepareErr)):
					t.Fatalf("Prepare error = %v, want one containing %q", err, tc.prepareErr)
				}
			}
			dbtest.MustExec(t, db, tc.attack...)
			if tc.closeDB {
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
			res := c.Check(ctx, env)
			t.Logf("%s: %s\n  expected: %s\n  actual:   %s\n  evidence: %q\n  anomaly:  %s\n  error:    %s\n  explain:  %s\n  ops:      %v (+%d)", res.Check, res.Verdict, res.Expected, res.Actual, res.Evidence, res.Anomaly, res.Error, res.Explanation, res.Ops, res.MoreOps)
			if res.Verdict != tc.want {
				t.Fatalf("verdict = %s, want %s (error %q, actual %q, evidence %q)", res.Verdict, tc.want, res.Error, res.Actual, res.Evidence)
			}
			if res.Verdict == Error && res.Error == "" {
				t.Error("error verdict without Error")
			}
			if res.Verdict != Error && res.Error != "" {
				t.Errorf("Error %q set on a %s", res.Error, res.Verdict)
			}
			if !strings.Contains(res.Error, tc.wantError) {
				t.Errorf("Error = %q, want it to contain %q", res.Error, tc.wantError)
			}
			if !strings.Contains(res.Actual, tc.wantActual) {
				t.Errorf("Actual = %q, want it to contain %q", res.Actual, tc.wantActual)
			}
			if tc.wantEvidence != nil && strings.Join(res.Evidence, "|") != strings.Join(tc.wantEvidence, "|") {
				t.Errorf("Evidence = %q, want %q", res.Evidence, tc.wantEvidence)
			}
			if len(res.Evidence) > MaxEvidence {
				t.Errorf("%d evidence items, want at most %d", len(res.Evidence), MaxEvidence)
			}
			wantAnomaly := tc.wantAnomaly
			if wantAnomaly == "" && res.Check == "unique" && tc.want == Fail {
				wantAnomaly = "duplicate"
			}
			if res.Anomaly != wantAnomaly {
				t.Errorf("Anomaly = %q, want %q", res.Anomaly, wantAnomaly)
			}
			if res.Check != testCheckName(tc.inv) || res.Name == "" || res.Took <= 0 {
				t.Errorf("Check=%q Name=%q Took=%v: want the checker name, a name and a duration", res.Check, res.Name, res.Took)
			}
			if res.Verdict == Fail && res.Check != "expect" && (res.Anomaly == "" || res.Fix == "" || len(res.Evidence) == 0) {
				t.Errorf("a %s failure needs an anomaly, evidence and the usual fix: anomaly %q, %d evidence items, fix %q", res.Check, res.Anomaly, len(res.Evidence), res.Fix)
			}
			if res.Verdict != Error && (res.Expected == "" || res.Actual == "") {
				t.Errorf("a %s must say what was expected and what was found: expected %q, actual %q", res.Verdict, res.Expected, res.Actual)
			}
			checkCounterexample(t, tc, res)
			if driver == "sqlite" {
				replayCounterexample(t, tc, open, res)
				checkFailGolden(t, tc.name, res)
			}
		})
	}
}

// checkCounterexample checks the structured counterexample of a failure:
// an explanation "Let … Then …", and ops that exist in the history with
// their id, name, key, times, outcome and status; none on a pass.
func checkCounterexample(t *testing.T, tc checkCase, res Result) {
	t.Helper()
	if res.Verdict != Fail {
		if res.Explanation != "" || len(res.Ops) > 0 {
			t.Errorf("a %s carries a counterexample: %q, %v", res.Verdict, res.Explanation, res.Ops)
		}
		return
	}
	if !strings.HasPrefix(res.Explanation, "Let ") || !strings.Contains(res.Explanation, "; Then ") || !strings.HasSuffix(res.Explanation, ".") {
		t.Errorf("explanation %q: want one sentence \"Let …; Then ….\"", res.Explanation)
	}
	for _, text := range append([]string{res.Actual, res.Explanation}, res.Evidence...) {
		if strings.Contains(text, `key ""`) || strings.Contains(text, `lock ""`) {
			t.Errorf("%q names an empty key: a profile without keys has none to name", text)
		}
	}
	if len(res.Ops) > MaxOps || res.MoreOps < 0 {
		t.Errorf("%d ops (%d more): want at most %d", len(res.Ops), res.MoreOps, MaxOps)
	}
	byID := map[uint64]hOp{}
	for _, o := range tc.hist {
		byID[o.ID] = o
	}
	for _, ref := range res.Ops {
		if !strings.Contains(res.Explanation, fmt.Sprintf("#%d", ref.ID)) && res.Check != "counter" && res.Check != "bounded_debits" {
			t.Errorf("op #%d is named in Ops but not in the explanation %q", ref.ID, res.Explanation)
		}
		o, ok := byID[ref.ID]
		if !ok {
			t.Errorf("op #%d of the counterexample is not in the history", ref.ID)
			continue
		}
		if ref.Op != o.Op || ref.Key != o.Key || !ref.Invoke.Equal(o.Invoke) || !ref.Complete.Equal(o.Complete) || ref.Outcome != o.Outcome || ref.Status != o.Status {
			t.Errorf("op #%d: counterexample %+v differs from the history's %+v", ref.ID, ref, o)
		}
	}
}

// minimalClasses are the checkers whose counterexample is a set of ops
// that proves the violation on its own.
var minimalClasses = map[string]bool{
	"no_lost_update": true, "exactly_one": true, "newest_wins": true, "locks": true,
	"linearizable": true, "all_present": true, "unique": true,
}

// replayCounterexample runs the checker again on a fresh database with the
// same setup and attack (so the same state before and after) and a history
// holding only the counterexample's ops: it must still fail.
func replayCounterexample(t *testing.T, tc checkCase, open func(t *testing.T) database.DB, res Result) {
	t.Helper()
	if res.Verdict != Fail || len(res.Ops) == 0 || !minimalClasses[res.Check] || tc.hist == nil || tc.tally != nil || res.MoreOps > 0 {
		return
	}
	keep := map[uint64]bool{}
	for _, r := range res.Ops {
		keep[r.ID] = true
	}
	var hist []hOp
	for _, o := range tc.hist {
		if keep[o.ID] {
			hist = append(hist, o)
		}
	}
	ctx := context.Background()
	c, err := testNew(tc.inv)
	if err != nil {
		t.Fatal(err)
	}
	db := open(t)
	dbtest.MustExec(t, db, tc.setup...)
	env := &Env{DB: db, Operations: tc.ops}
	if env.Operations == nil { // the names the full history knew
		seen := map[string]bool{}
		for _, o := range tc.hist {
			if !seen[o.Op] {
				seen[o.Op] = true
				env.Operations = append(env.Operations, o.Op)
			}
		}
	}
	env.HistoryPath, env.Tally = writeHistory(t, t.TempDir(), hist)
	if p, ok := c.(Preparer); ok {
		if err := p.Prepare(ctx, env); err != nil {
			t.Fatalf("replay: Prepare: %v", err)
		}
	}
	dbtest.MustExec(t, db, tc.attack...)
	again := c.Check(ctx, env)
	if again.Verdict != Fail {
		t.Errorf("replayed alone, the counterexample's %d ops give %s, want fail (actual %q, error %q)", len(hist), again.Verdict, again.Actual, again.Error)
	}
}

func TestCheckers(t *testing.T) {
	for _, d := range dbtest.Dialects {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			open := d.Opener(t)
			runCheckerSuite(t, d.Name, open, checkCases)
			runCheckerSuite(t, d.Name, open, historyCheckCases)
		})
	}
}

// update rewrites the golden files of failures: go test ./invariants -run
// TestCheckers/sqlite -update.
var update = flag.Bool("update", false, "rewrite the golden FAIL texts under testdata/fail")

// failText is a failure as a person reads it in a report: what had to
// hold, what was found, the class, the explanation, the ops, the evidence
// and the fix. The path of a linearizability visualization (a temporary
// directory) is left out.
func failText(res Result) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("check", res.Check)
	line("verdict", string(res.Verdict))
	line("expected", res.Expected)
	line("actual", res.Actual)
	line("anomaly", res.Anomaly)
	line("why", res.Explanation)
	if len(res.Ops) > 0 {
		b.WriteString("ops:\n")
		for _, o := range res.Ops {
			fmt.Fprintf(&b, "  %s\n", o)
		}
		if res.MoreOps > 0 {
			fmt.Fprintf(&b, "  … %d more\n", res.MoreOps)
		}
	}
	if len(res.Evidence) > 0 {
		b.WriteString("evidence:\n")
		for _, e := range res.Evidence {
			if !strings.HasPrefix(e, "visualization") {
				fmt.Fprintf(&b, "  %s\n", e)
			}
		}
	}
	line("fix", res.Fix)
	return b.String()
}

// checkFailGolden compares a failure's text with
// testdata/fail/<check>/<case>.txt, or writes it with -update.
func checkFailGolden(t *testing.T, name string, res Result) {
	t.Helper()
	if res.Verdict != Fail {
		return
	}
	path := filepath.Join("testdata", "fail", res.Check, slug(name)+".txt")
	got := failText(res)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./invariants -run TestCheckers/sqlite -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update if the change is intended):\nwant:\n%s\ngot:\n%s", path, want, got)
	}
}
