package harness_test

// This file is the walkthrough of docs/extending.md ("Adding a checker"),
// made true: a checker of its own, max_rows, defined and registered here as
// a checker of the invariants package would be (one file: its fields, its
// constructor, its Check, one Register call), then run through a real
// profile against the built-in demo on SQLite. TestExtendingDocMatches
// keeps the document's copy of the code equal to this one.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// doc:begin checker

// maxRowsFields are the fields of max_rows in a profile, besides the
// common ones (name, check, query, op, unit, thing).
type maxRowsFields struct {
	// Max is the most rows the query may return.
	Max int `yaml:"max" jsonschema_description:"The most rows the query may return (0: none)."`
}

// maxRowsChecker is max_rows: its query returns at most Max rows.
type maxRowsChecker struct {
	name, query string
	max         int
}

// maxRowsCheck is the checker's name: the profile's check: value.
const maxRowsCheck = "max_rows"

func init() {
	invariants.Register(invariants.Kind[maxRowsFields]{
		Name:  maxRowsCheck,
		About: "the query returns at most max rows",
		Query: invariants.Required, // the invariant's query: must be set
		New:   newMaxRows,
	})
}

// newMaxRows builds the checker from the invariant and its decoded fields;
// its errors stop the profile before any load.
func newMaxRows(inv profiles.Invariant, f *maxRowsFields) (invariants.Checker, error) {
	if f.Max < 0 {
		return nil, inv.Fields.Errorf("max", "must not be negative")
	}
	return &maxRowsChecker{name: inv.Name, query: inv.Query, max: f.Max}, nil
}

// Check runs the query after the attack and counts its rows.
func (c *maxRowsChecker) Check(ctx context.Context, env *invariants.Env) invariants.Result {
	start := time.Now()
	res := invariants.Result{Name: c.name, Check: maxRowsCheck, Verdict: invariants.Pass,
		Expected: fmt.Sprintf("at most %d rows", c.max)}
	rows, err := env.DB.Query(ctx, c.query)
	if err != nil {
		res.Verdict, res.Error = invariants.Error, err.Error()
	} else if res.Actual = fmt.Sprintf("%d rows", len(rows.Values)); len(rows.Values) > c.max {
		res.Verdict = invariants.Fail
		for _, row := range rows.Values[:min(len(rows.Values), invariants.MaxEvidence)] {
			res.Evidence = append(res.Evidence, fmt.Sprint(row...))
		}
	}
	res.Took = time.Since(start)
	return res
}

// doc:end checker

// doc:begin profile
const maxRowsProfile = `
name: double-submit-max-rows
target:
  demo: {mode: racy}
database:
  driver: sqlite
setup:
  - DELETE FROM orders
  - DELETE FROM idempotency_keys
operations:
  - name: create
    request:
      method: POST
      url: /orders
      headers: {Idempotency-Key: "order-{{uuid}}"}
      body: '{"item": "book"}'
    burst: {copies: 16, sync: last-byte}
    rate: 20/s
    duration: 500ms
invariants:
  - name: no idempotency key has two orders
    check: max_rows
    query: SELECT idempotency_key FROM orders GROUP BY idempotency_key HAVING count(*) > 1
    max: 0
`

// doc:end profile

// TestExtendingAddChecker runs max_rows through a real profile against the
// demo on SQLite: the racy demo lets copies of one create through together
// (fail), the safe one does not (pass). A racy run that missed its race is
// run again, at most twice: a race is a chance per burst.
func TestExtendingAddChecker(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    string
		verdict invariants.Verdict
		code    int
	}{
		{"racy demo fails", "racy", invariants.Fail, 1},
		{"safe demo passes", "safe", invariants.Pass, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res *report.Result
			for attempt := 1; attempt <= 3; attempt++ {
				p, err := profiles.Parse("max-rows.yaml", []byte(maxRowsProfile), []string{"target.demo.mode=" + tc.mode})
				if err != nil {
					t.Fatal(err)
				}
				if res, err = harness.Run(context.Background(), harness.Options{Profile: p, OutDir: t.TempDir()}); err != nil {
					t.Fatal(err)
				}
				if tc.mode == "safe" || res.ExitCode != 0 {
					break
				}
				t.Logf("racy run missed its race on attempt %d; running again", attempt)
			}
			if res.ExitCode != tc.code || len(res.Invariants) != 1 {
				t.Fatalf("exit %d, want %d; invariants %+v", res.ExitCode, tc.code, res.Invariants)
			}
			got := res.Invariants[0]
			if got.Check != "max_rows" || got.Verdict != tc.verdict || got.Expected != "at most 0 rows" {
				t.Fatalf("invariant %+v: want max_rows %s", got, tc.verdict)
			}
			if tc.verdict == invariants.Fail && (len(got.Evidence) == 0 || !strings.HasPrefix(got.Evidence[0], "order-")) {
				t.Errorf("evidence %q: want the duplicated keys", got.Evidence)
			}
		})
	}
}

// TestExtendingFieldErrors: max_rows' fields are decoded strictly and
// checked by its constructor, with the file, line and field path, before
// any load.
func TestExtendingFieldErrors(t *testing.T) {
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown field", "    max: 0", "    maxx: 0", `max-rows.yaml:24: invariants[0].maxx: unknown field (did you mean "max"?)`},
		{"wrong type", "    max: 0", "    max: none", `max-rows.yaml:24: invariants[0].max: want an integer, got "none"`},
		{"constructor's rule", "    max: 0", "    max: -1", `max-rows.yaml:24: invariants[0].max: must not be negative`},
		{"another checker's field", "    max: 0", "    max: 0\n    ttl: 1s", `max-rows.yaml:25: invariants[0].ttl: ttl is not read by checker max_rows (its own fields: max)`},
		{"common field it does not read", "    max: 0", "    max: 0\n    op: create", `max-rows.yaml:25: invariants[0].op: op is not read by checker max_rows (it reads query, max)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := profiles.Parse("max-rows.yaml", []byte(strings.Replace(maxRowsProfile, tc.old, tc.new, 1)), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = harness.Validate(p)
			var pe *harness.ProfileError
			if !errors.As(err, &pe) || err.Error() != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

// TestExtendingDocMatches: the code docs/extending.md walks through is the
// code above, so that the walkthrough stays true.
func TestExtendingDocMatches(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "extending.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("extending_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"checker", "profile"} {
		_, rest, _ := strings.Cut(string(src), "// doc:begin "+part+"\n")
		code, _, _ := strings.Cut(rest, "// doc:end "+part+"\n")
		code = strings.TrimSpace(code)
		if part == "profile" {
			code = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(code, "const maxRowsProfile = `"), "`"))
		}
		if !strings.Contains(string(doc), code) {
			t.Errorf("docs/extending.md does not hold the %s of extending_test.go as it is:\n%s", part, code)
		}
	}
}
