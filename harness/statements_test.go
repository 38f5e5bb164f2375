package harness

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/collide-dev/collide/internal/testpg"
)

// statementProfile is a run against the demo whose invariant query comes
// from the test case; setup makes a table of its own, to prove queries are
// prepared after setup.
const statementProfile = `
name: statement-test
target:
  demo: {mode: safe, think: 0s}
database:
  driver: sqlite
setup:
  - DELETE FROM counters
  - INSERT INTO counters(id, value) VALUES (1, 0)
  - CREATE TABLE IF NOT EXISTS made_by_setup (n INTEGER)
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    rate: 50/s
    requests: 5
    duration: 1s
invariants:
  - name: counted
    query: QUERY
    expect: EXPECT
`

// TestRunPreparesQueriesBeforeTheAttack: at run start, after setup and
// before any load, every invariant query is prepared on the real database.
// A missing column or table, or a syntax error, stops the run with a
// profile error (exit 2) naming file, line and field, and no request is
// sent; a query on a table setup made is accepted. So does an expect
// expression that reads a column (or before.column) its query does not
// return.
func TestRunPreparesQueriesBeforeTheAttack(t *testing.T) {
	dbs := map[string][]string{"sqlite": nil}
	if !testing.Short() {
		dbs["postgres"] = []string{"database.driver=postgres", "database.dsn=" + testpg.New(t)}
	}
	for _, tc := range []struct {
		name, query, expect string
		wantErr             string // empty: the run passes
	}{
		{name: "missing column", query: "SELECT valu FROM counters WHERE id = 1", wantErr: "test.yaml:19: invariants[0].query: "},
		{name: "missing table", query: "SELECT value FROM counter WHERE id = 1", wantErr: "test.yaml:19: invariants[0].query: "},
		{name: "syntax", query: "SELECT value FROM counters WHERE", wantErr: "test.yaml:19: invariants[0].query: "},
		{name: "table made by setup", query: "SELECT count(*) AS n FROM made_by_setup", expect: "n >= 0"},
		{name: "expect reads a missing column", query: "SELECT value FROM counters WHERE id = 1", expect: "valu >= 0",
			wantErr: `test.yaml:20: invariants[0].expect: the expression reads valu, but the query returns only the columns value (did you mean "value"?)`},
		{name: "expect reads a missing before column", query: "SELECT value FROM counters WHERE id = 1", expect: "value >= before.vlaue",
			wantErr: `test.yaml:20: invariants[0].expect: the expression reads vlaue, but the query returns only the columns value (did you mean "value"?)`},
		{name: "expect reads its columns", query: "SELECT value, id FROM counters WHERE id = 1", expect: `value - before.value <= ok("incr") + unknown("incr") && id == 1`},
	} {
		for _, db := range []string{"sqlite", "postgres"} {
			sets, ok := dbs[db]
			if !ok {
				continue
			}
			t.Run(tc.name+"/"+db, func(t *testing.T) {
				expect := tc.expect
				if expect == "" {
					expect = `ok("incr") >= 0`
				}
				yaml := strings.NewReplacer("QUERY", tc.query, "EXPECT", expect).Replace(statementProfile)
				p := parse(t, yaml, sets...)
				res, err := Run(context.Background(), Options{Profile: p, OutDir: t.TempDir()})
				if tc.wantErr == "" {
					if err != nil || res.ExitCode != ExitPass {
						t.Fatalf("err = %v, exit %d; want a pass", err, res.ExitCode)
					}
					return
				}
				var pe *ProfileError
				if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a profile error starting %q", err, tc.wantErr)
				}
				if res.ExitCode != ExitUsage {
					t.Fatalf("exit %d, want %d", res.ExitCode, ExitUsage)
				}
				if n := res.Totals.Total(); n != 0 {
					t.Fatalf("%d requests sent, want none", n)
				}
			})
		}
	}
}
