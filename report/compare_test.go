package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/invariants"
)

// res builds a small result: verdict, invariant verdicts by name, p99 of
// op "incr", and outcome counts.
func res(started int, verdict Verdict, p99 time.Duration, ok, unknown int, invs ...invariants.Result) *Result {
	return &Result{
		Schema: SchemaVersion, RunID: "run", Profile: ProfileInfo{Name: "counter"}, Verdict: verdict,
		Started:    time.Date(2026, 1, started, 0, 0, 0, 0, time.UTC),
		Totals:     history.Counts{OK: ok, Unknown: unknown},
		Attack:     []*attacks.Metrics{{Op: "incr", P50: p99 / 4, P99: p99, Through: float64(ok) / 2}},
		Invariants: invs,
	}
}

func inv(name string, v invariants.Verdict, actual string) invariants.Result {
	return invariants.Result{Name: name, Verdict: v, Actual: actual}
}

func TestCompareRegressions(t *testing.T) {
	ms := time.Millisecond
	const a, b = "count exact", "no duplicate"
	for _, tc := range []struct {
		name string
		runs []*Result
		opt  CompareOptions
		want []string // Why of each regression, in order
	}{
		{"nothing changed", []*Result{
			res(1, Pass, 10*ms, 100, 0, inv(a, "pass", "")),
			res(2, Pass, 10*ms, 100, 0, inv(a, "pass", "")),
		}, DefaultCompareOptions(), nil},
		{"pass to fail", []*Result{
			res(1, Pass, 10*ms, 100, 0, inv(a, "pass", "")),
			res(2, Fail, 10*ms, 100, 0, inv(a, "fail", "value=90")),
		}, DefaultCompareOptions(), []string{"verdict PASS → FAIL", `invariant "count exact" PASS → FAIL`}},
		{"pass to error and unknown", []*Result{
			res(1, Pass, 10*ms, 100, 0, inv(a, "pass", ""), inv(b, "pass", "")),
			res(2, Error, 10*ms, 100, 0, inv(a, "error", ""), inv(b, "unknown", "")),
		}, DefaultCompareOptions(), []string{"verdict PASS → ERROR", `invariant "count exact" PASS → ERROR`, `invariant "no duplicate" PASS → UNKNOWN`}},
		{"fail to fail is not a regression", []*Result{
			res(1, Fail, 10*ms, 100, 0, inv(a, "fail", "x")),
			res(2, Fail, 10*ms, 100, 0, inv(a, "fail", "y")),
		}, DefaultCompareOptions(), nil},
		{"fail to pass is not a regression", []*Result{
			res(1, Fail, 10*ms, 100, 0, inv(a, "fail", "x")),
			res(2, Pass, 10*ms, 100, 0, inv(a, "pass", "")),
		}, DefaultCompareOptions(), nil},
		{"invariants matched by name, not position", []*Result{
			res(1, Pass, 10*ms, 100, 0, inv(a, "pass", ""), inv(b, "pass", "")),
			res(2, Fail, 10*ms, 100, 0, inv(b, "fail", "dup"), inv(a, "pass", "")),
		}, DefaultCompareOptions(), []string{"verdict PASS → FAIL", `invariant "no duplicate" PASS → FAIL`}},
		{"unknown share up 10 points regresses", []*Result{
			res(1, Pass, 10*ms, 100, 0),
			res(2, Pass, 10*ms, 90, 10),
		}, DefaultCompareOptions(), []string{"unknown share 0.0% → 10.0% (+10.0 pp, threshold +5.0 pp)"}},
		{"unknown share up 3 points does not", []*Result{
			res(1, Pass, 10*ms, 100, 0),
			res(2, Pass, 10*ms, 97, 3),
		}, DefaultCompareOptions(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cols := make([]Column, len(tc.runs))
			for i, r := range tc.runs {
				cols[i] = Column{Label: string(rune('A' + i)), Result: r}
			}
			c := Compare(cols, tc.opt)
			var got []string
			for _, r := range c.Regressions {
				got = append(got, r.Why)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("regressions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if c.Regressed() != (len(tc.want) > 0) {
				t.Fatalf("Regressed() = %v", c.Regressed())
			}
		})
	}
}

func TestCompareCells(t *testing.T) {
	c := Compare([]Column{
		{Label: "old", Result: res(1, Pass, 600*time.Millisecond, 100, 0)},
		{Label: "new", Result: res(2, Pass, 810*time.Millisecond, 100, 0)},
	}, DefaultCompareOptions())
	row := func(name string) Row {
		for _, r := range c.Rows {
			if r.Name == name {
				return r
			}
		}
		t.Fatalf("no row %q in %+v", name, c.Rows)
		return Row{}
	}
	for _, tc := range []struct {
		row, want0, want1 string
	}{
		{"p99 incr", "600ms", "810ms (+35%)"},
		{"p50 incr", "150ms", "202.5ms (+35%)"},
		{"ok", "100", "100 (±0%)"},
		{"unknown share", "0.0%", "0.0% (±0 pp)"},
		{"verdict", "PASS", "PASS"},
	} {
		t.Run(tc.row, func(t *testing.T) {
			r := row(tc.row)
			if r.Cells[0].Text != tc.want0 || r.Cells[1].Text != tc.want1 {
				t.Fatalf("cells %q, %q; want %q, %q", r.Cells[0].Text, r.Cells[1].Text, tc.want0, tc.want1)
			}
		})
	}
	if p := row("p99 incr").Cells[1]; p.Regression != "" || p.Change == nil || *p.Change < 0.34 || *p.Change > 0.36 {
		t.Fatalf("p99 cell %+v: want change 0.35 and no regression (the latency test decides)", p)
	}
}

func TestCompareSetsByProfile(t *testing.T) {
	other := func(r *Result, name string) *Result { r.Profile.Name = name; return r }
	night1 := RunSet{Label: "night1", Runs: []Run{
		{Dir: "n1/counter", Result: res(1, Pass, time.Millisecond, 10, 0)},
		{Dir: "n1/orders", Result: other(res(1, Pass, time.Millisecond, 10, 0), "orders")},
	}}
	night2 := RunSet{Label: "night2", Runs: []Run{
		{Dir: "n2/counter-early", Result: res(2, Pass, time.Millisecond, 10, 0)},
		{Dir: "n2/counter", Result: res(3, Fail, time.Millisecond, 10, 0)}, // the latest counter run wins
	}}
	cs := CompareSets([]RunSet{night1, night2}, DefaultCompareOptions())
	if len(cs) != 2 || cs[0].Profile != "counter" || cs[1].Profile != "orders" {
		t.Fatalf("comparisons: %+v", cs)
	}
	if cs[0].Runs[1].Dir != "n2/counter" || !cs[0].Regressed() {
		t.Fatalf("counter: %+v regressions %+v", cs[0].Runs, cs[0].Regressions)
	}
	if !cs[1].Runs[1].Missing || cs[1].Regressed() || len(cs[1].Notes) == 0 {
		t.Fatalf("orders missing from night2 should be a note, not a regression: %+v", cs[1])
	}
	var b bytes.Buffer
	if err := CompareTable(&b, cs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "night2 (missing)") || !strings.Contains(b.String(), "1 regression in 1 of 2 profiles") {
		t.Fatalf("table:\n%s", b.String())
	}
}

func TestCompareNotesOrder(t *testing.T) {
	c := Compare([]Column{
		{Label: "newer", Result: res(5, Pass, time.Millisecond, 1, 0)},
		{Label: "older", Result: res(1, Pass, time.Millisecond, 1, 0)},
	}, DefaultCompareOptions())
	if len(c.Notes) == 0 || !strings.Contains(c.Notes[0], "older started before") {
		t.Fatalf("notes %q", c.Notes)
	}
}
