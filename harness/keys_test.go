package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/report"
)

// keyedProfile spreads the demo's racy classes over real rows: counters
// and account pairs whose keys come from queries run after setup, and
// accounts named by a range. Each invariant is checked per key.
const keyedProfile = `
name: keyed
target:
  demo: {mode: racy, think: 10ms}
database:
  driver: sqlite
setup:
  - DELETE FROM counters
  - INSERT INTO counters(id, value) VALUES (11, 0), (12, 0), (13, 0)
  - DELETE FROM accounts
  - INSERT INTO accounts(id, balance) VALUES (1, 30), (2, 30), (31, 100), (32, 100), (41, 100), (42, 100)
operations:
  - name: incr
    request: {method: POST, url: "/counters/{{key}}/increment"}
    keys: {query: SELECT id FROM counters}
    rate: 300/s
    duration: 1s
    workers: 32
  - name: debit
    request: {method: POST, url: "/accounts/{{key}}/debit", body: '{"amount": 10}'}
    keys: {from: 1, to: 2}
    burst: 8
    rate: 10/s
    duration: 1s
  # Pair k holds accounts k1 and k2: money moves inside each pair only.
  - name: transfer-out
    request: {method: POST, url: /accounts/transfer, body: '{"from": {{key}}1, "to": {{key}}2, "amount": 10}'}
    keys: {query: "SELECT DISTINCT id / 10 FROM accounts WHERE id > 10"}
    rate: 100/s
    duration: 1s
    workers: 8
  - name: transfer-back
    request: {method: POST, url: /accounts/transfer, body: '{"from": {{key}}2, "to": {{key}}1, "amount": 10}'}
    keys: {query: "SELECT DISTINCT id / 10 FROM accounts WHERE id > 10"}
    rate: 100/s
    duration: 1s
    workers: 8
invariants:
  - name: every increment counted on its counter
    check: counter
    per_key: true
    query: SELECT id, value FROM counters
    op: incr
  - name: debits add up per account, none beyond its balance
    check: bounded_debits
    per_key: true
    query: SELECT id, balance FROM accounts WHERE id < 10
    op: debit
    amount: 10
    floor: 0
  - name: transfers conserve each pair's money
    check: conservation
    per_key: true
    query: SELECT id / 10 AS pair, SUM(balance) AS total FROM accounts WHERE id > 10 GROUP BY id / 10
`

// TestKeysFromQueriesOverRealRows: keys read from the database after setup
// drive the requests and become the ops' keys, and the per-key checkers
// fail on the racy demo and pass on the safe one, on SQLite and PostgreSQL.
func TestKeysFromQueriesOverRealRows(t *testing.T) {
	dbs := map[string][]string{"sqlite": nil}
	if !testing.Short() {
		dbs["postgres"] = []string{"database.driver=postgres", "database.dsn=" + testpg.New(t)}
	}
	for _, db := range []string{"sqlite", "postgres"} {
		sets, ok := dbs[db]
		if !ok {
			continue
		}
		for _, mode := range []string{"racy", "safe"} {
			t.Run(db+"/"+mode, func(t *testing.T) {
				out := t.TempDir()
				res, err := Run(context.Background(), Options{Profile: parse(t, keyedProfile, append([]string{"target.demo.mode=" + mode}, sets...)...), OutDir: out})
				if err != nil {
					t.Fatal(err)
				}
				for _, inv := range res.Invariants {
					t.Logf("%s: %s\n  actual: %s\n  evidence: %q\n  error: %s", inv.Name, inv.Verdict, inv.Actual, inv.Evidence, inv.Error)
				}
				want, wantInv := report.Pass, invariants.Pass
				if mode == "racy" {
					want, wantInv = report.Fail, invariants.Fail
				}
				if res.Verdict != want {
					t.Fatalf("verdict %s, want %s (seed %d)", res.Verdict, want, res.Seed)
				}
				for _, inv := range res.Invariants {
					if inv.Verdict != wantInv {
						t.Errorf("%s: %s, want %s (seed %d)", inv.Name, inv.Verdict, wantInv, res.Seed)
					}
					if wantInv == invariants.Fail && (len(inv.Evidence) == 0 || !strings.HasPrefix(inv.Evidence[0], "key ")) {
						t.Errorf("%s: evidence %q does not name the failing keys", inv.Name, inv.Evidence)
					}
				}
				ops, err := history.ReadAll(filepath.Join(out, HistoryFile))
				if err != nil {
					t.Fatal(err)
				}
				keys := map[string]map[string]bool{}
				for _, op := range ops {
					if keys[op.Op] == nil {
						keys[op.Op] = map[string]bool{}
					}
					keys[op.Op][op.Key] = true
				}
				for op, want := range map[string][]string{"incr": {"11", "12", "13"}, "debit": {"1", "2"}, "transfer-out": {"3", "4"}, "transfer-back": {"3", "4"}} {
					got := make([]string, 0, len(keys[op]))
					for k := range keys[op] {
						got = append(got, k)
					}
					slices.Sort(got)
					// Ten bursts may all draw one of the two accounts.
					if !slices.Equal(got, want) && (op != "debit" || len(got) != 1 || !slices.Contains(want, got[0])) {
						t.Errorf("%s: op keys %q, want %q", op, got, want)
					}
				}
			})
		}
	}
}

// TestKeyQueryThatCannotRun: a key query that fails or returns no rows
// stops the run before any load, with an environment error (exit 3) naming
// the operation and the query.
func TestKeyQueryThatCannotRun(t *testing.T) {
	for _, tc := range []struct{ name, set, want string }{
		{"no rows", "operations[0].keys.query=SELECT id FROM counters WHERE id > 99", "no rows"},
		{"bad SQL", "operations[0].keys.query=SELECT id FROM no_such_table", "no_such_table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			res, err := Run(context.Background(), Options{Profile: parse(t, keyedProfile, tc.set), OutDir: out})
			var ee *EnvError
			if !errors.As(err, &ee) || ee.Stage != "setup" || ErrorExitCode(err) != ExitEnv {
				t.Fatalf("err = %v, want a setup EnvError", err)
			}
			query := strings.TrimPrefix(tc.set, "operations[0].keys.query=")
			for _, s := range []string{`operations[0] "incr"`, fmt.Sprintf("%q", query), tc.want} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %s", err, s)
				}
			}
			if res.Verdict != report.Error || res.ExitCode != ExitEnv || res.Totals.Total() != 0 {
				t.Fatalf("verdict %s exit %d, %d ops: want error, exit 3, no load", res.Verdict, res.ExitCode, res.Totals.Total())
			}
		})
	}
}
