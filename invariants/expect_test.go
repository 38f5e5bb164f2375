package invariants

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
)

func TestRegistry(t *testing.T) {
	const names = "all_present,bounded_debits,conservation,counter,exactly_one,expect,linearizable,locks,never_negative,newest_wins,no_lost_update,unique"
	if got := strings.Join(Names(), ","); got != names {
		t.Errorf("Names() = %s, want %s", got, names)
	}
	for _, tc := range []struct {
		inv  flatInv
		want string
	}{
		{flatInv{Expect: "true"}, "expect"},
		{flatInv{Unique: "SELECT 1"}, "unique"},
		{flatInv{Check: "unique", Query: "SELECT 1"}, "unique"},
		{flatInv{Expect: "true", Unique: "SELECT 1"}, ""},
		{flatInv{Query: "SELECT 1"}, ""},
		{flatInv{Check: "counter", Query: "SELECT 1", Op: "incr"}, "counter"},
	} {
		if got := testCheckName(tc.inv); got != tc.want {
			t.Errorf("testCheckName(%+v) = %q, want %q", tc.inv, got, tc.want)
		}
	}
	_, err := testNew(flatInv{Name: "counter is exact", Query: "SELECT 1 AS v", Expect: "v >="})
	if err == nil || !strings.Contains(err.Error(), `invariant "counter is exact": expect:`) {
		t.Errorf("New error = %v, want it to name the invariant and the checker", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a checker twice did not panic")
		}
	}()
	Register(Kind[expectFields]{Name: "expect", New: newExpect})
}

func mustNew(t testing.TB, inv flatInv) Checker {
	t.Helper()
	c, err := testNew(inv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExpectEnvProblemsAreErrors(t *testing.T) {
	ctx := context.Background()
	withQuery := mustNew(t, flatInv{Query: "SELECT 1 AS v", Expect: `v >= ok("incr")`})
	historyOnly := mustNew(t, flatInv{Expect: `ok("incr") >= 0`})
	db := dbtest.SQLite(t)
	for name, tc := range map[string]struct {
		c    Checker
		env  *Env
		want string
	}{
		"nil env":            {withQuery, nil, "no environment"},
		"no database":        {withQuery, &Env{Tally: newTally(map[string]counts{"incr": {1, 0, 0}})}, "no database"},
		"no tally":           {historyOnly, &Env{DB: db}, "no history tally"},
		"no tally but query": {withQuery, &Env{DB: db}, "no history tally"},
		"empty tally":        {historyOnly, &Env{DB: db, Tally: newTally(nil)}, `unknown operation "incr" (operations: none)`},
	} {
		res := tc.c.Check(ctx, tc.env)
		if res.Verdict != Error || !strings.Contains(res.Error, tc.want) {
			t.Errorf("%s: %s %q, want error containing %q", name, res.Verdict, res.Error, tc.want)
		}
	}
}

func TestExpectDynamicOperationName(t *testing.T) {
	db := dbtest.SQLite(t)
	env := &Env{DB: db, Tally: newTally(map[string]counts{"incr": {3, 0, 0}})}
	good := mustNew(t, flatInv{Query: "SELECT 'incr' AS op, 3 AS v", Expect: `v == ok(op)`})
	if res := good.Check(context.Background(), env); res.Verdict != Pass {
		t.Errorf("ok(op) with op=incr: %s %q", res.Verdict, res.Error)
	}
	bad := mustNew(t, flatInv{Query: "SELECT 'incrr' AS op, 3 AS v", Expect: `v == ok(op)`})
	if res := bad.Check(context.Background(), env); res.Verdict != Error || !strings.Contains(res.Error, `unknown operation "incrr"`) {
		t.Errorf("ok(op) with op=incrr: %s %q, want an error", res.Verdict, res.Error)
	}
}

func TestExpectSpecialColumns(t *testing.T) {
	db := dbtest.SQLite(t)
	dbtest.MustExec(t, db, counterSetup, `INSERT INTO counters VALUES (1, 4), (2, 6)`)
	env := &Env{DB: db, Tally: newTally(map[string]counts{"incr": {10, 0, 0}})}
	for _, tc := range []struct {
		inv        flatInv
		wantActual string
	}{
		// A column that is not an identifier is reachable through $env.
		{flatInv{Query: "SELECT sum(value) FROM counters", Expect: `$env["sum(value)"] == ok("incr")`}, `$env["sum(value)"]=10, ok("incr")=10`},
		// A column named count replaces the row count.
		{flatInv{Query: "SELECT 7 AS count", Expect: `count == 7`}, `count=7`},
		{flatInv{Query: "SELECT id FROM counters", Expect: `count == 2 && len(rows) == 2`}, `count=2, rows=[2 rows]`},
		// A column named like a history function stays reachable through rows.
		{flatInv{Query: "SELECT 3 AS ok", Expect: `rows[0].ok == 3 && ok("incr") == 10`}, `rows=[1 rows], ok("incr")=10`},
		// let bindings are not columns.
		{flatInv{Query: "SELECT sum(value) AS total_value FROM counters", Expect: `let d = total_value - ok("incr"); d == 0`}, `total_value=10, ok("incr")=10`},
	} {
		res := mustNew(t, tc.inv).Check(context.Background(), env)
		if res.Verdict != Pass || res.Actual != tc.wantActual {
			t.Errorf("%s: %s actual=%q error=%q, want pass %q", tc.inv.Expect, res.Verdict, res.Actual, res.Error, tc.wantActual)
		}
	}
}

func TestExpectEvidenceIsCapped(t *testing.T) {
	db := dbtest.SQLite(t)
	dbtest.MustExec(t, db, counterSetup)
	for i := 1; i <= 25; i++ {
		dbtest.MustExec(t, db, fmt.Sprintf(`INSERT INTO counters VALUES (%d, -%d)`, i, i))
	}
	c := mustNew(t, flatInv{Name: "never negative", Query: "SELECT id, value FROM counters WHERE value < 0 ORDER BY id", Expect: "count == 0"})
	res := c.Check(context.Background(), &Env{DB: db, Tally: newTally(nil)})
	if res.Verdict != Fail || len(res.Evidence) != MaxEvidence {
		t.Fatalf("%s with %d evidence items, want fail with %d", res.Verdict, len(res.Evidence), MaxEvidence)
	}
	if res.Evidence[0] != "id=1 value=-1" || res.Evidence[9] != "… 16 more rows" {
		t.Errorf("evidence = %q", res.Evidence)
	}
}

func TestExpectPrepareFailureIsAnErrorVerdict(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	c := mustNew(t, flatInv{Name: "delta", Query: "SELECT value FROM counters WHERE id = 1", Expect: `value - before.value >= 0`})
	env := &Env{DB: db, Tally: newTally(nil)}
	if err := c.(Preparer).Prepare(ctx, env); err == nil || !strings.Contains(err.Error(), "counters") {
		t.Fatalf("Prepare before the table exists: err = %v, want the query error", err)
	}
	dbtest.MustExec(t, db, counterAt("1")...)
	res := c.Check(ctx, env)
	if res.Verdict != Error || !strings.Contains(res.Error, "before the attack") {
		t.Errorf("Check after a failed Prepare: %s %q, want an error", res.Verdict, res.Error)
	}
	// An expression that does not read before needs no Prepare.
	plain := mustNew(t, flatInv{Query: "SELECT value FROM counters WHERE id = 1", Expect: `value == 1`})
	if err := plain.(Preparer).Prepare(ctx, &Env{}); err != nil {
		t.Errorf("Prepare without before: %v", err)
	}
	if res := plain.Check(ctx, env); res.Verdict != Pass {
		t.Errorf("Check without Prepare: %s %q", res.Verdict, res.Error)
	}
}

// TestExpectConcurrentUse runs Prepare and Check from several goroutines; it
// is meant for -race.
func TestExpectConcurrentUse(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	dbtest.MustExec(t, db, counterAt("5")...)
	c := mustNew(t, flatInv{Query: "SELECT value FROM counters WHERE id = 1", Expect: `value - before.value <= ok("incr")`})
	env := &Env{DB: db, Tally: newTally(map[string]counts{"incr": {1, 0, 0}})}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := c.(Preparer).Prepare(ctx, env); err != nil {
				t.Error(err)
			}
			if res := c.Check(ctx, env); res.Verdict != Pass {
				t.Errorf("%s %q", res.Verdict, res.Error)
			}
		})
	}
	wg.Wait()
}

func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(Result{Name: "n", Check: "unique", Verdict: Fail, Evidence: []string{`"k" ×2`}, Took: 1500})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"n","check":"unique","verdict":"fail","evidence":["\"k\" ×2"],"took":1500}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
}

// TestExpectHoldsRowsOnlyWhenRead: an expression that reads rows (by name,
// through $env["rows"] or all of $env) sees every row; any other streams
// them and sees the same count and first row.
func TestExpectHoldsRowsOnlyWhenRead(t *testing.T) {
	db := dbtest.SQLite(t)
	dbtest.MustExec(t, db, counterSetup)
	for i := 1; i <= 30; i++ {
		dbtest.MustExec(t, db, fmt.Sprintf(`INSERT INTO counters VALUES (%d, %d)`, i, i))
	}
	env := &Env{DB: db, Tally: newTally(nil)}
	for _, tc := range []struct {
		name, expect string
		readsRows    bool
	}{
		{"count", `count == 30`, false},
		{"first row", `id == 1 && value == 1 && count == 30`, false},
		{"history call", `count == 30 && total() == 0`, false},
		{"rows", `len(rows) == 30 && rows[29].value == 30`, true},
		{"rows in a builtin", `all(rows, .value > 0) && count == 30`, true},
		{"$env rows", `len($env["rows"]) == 30`, true},
		{"all of $env", `len($env) > 0 && count == 30`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, flatInv{Query: "SELECT id, value FROM counters ORDER BY id", Expect: tc.expect})
			if got := c.(*expectChecker).refs.rows; got != tc.readsRows {
				t.Errorf("reads rows = %v, want %v", got, tc.readsRows)
			}
			if res := c.Check(context.Background(), env); res.Verdict != Pass {
				t.Errorf("%s (error %q, actual %q), want pass", res.Verdict, res.Error, res.Actual)
			}
		})
	}
}
