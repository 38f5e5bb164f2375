package main

import (
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/collide-dev/collide/internal/testmysql"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// checkerBothWays names, for the checkers that no built-in profile proves
// both ways on every racy run, a profile under testdata/profiles/checkers
// whose single invariant uses that checker against the demo: racy must
// fail it, safe must pass it.
var checkerBothWays = map[string]string{
	"conservation": "conservation", // transfers within pairs of accounts
	"expect":       "expect",       // increments of one counter
	"exactly_one":  "exactly_one",  // creates with one idempotency key per burst
}

// TestCheckersBothWays: each checker of checkerBothWays, run through the
// CLI against the in-process demo with no artificial delay (think 0), fails
// against the racy endpoint (exit 1, the invariant fail with that checker)
// and passes against the safe one (exit 0) — on SQLite, PostgreSQL and
// MariaDB.
func TestCheckersBothWays(t *testing.T) {
	names := make([]string, 0, len(checkerBothWays))
	for c := range checkerBothWays {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, db := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(db, func(t *testing.T) {
			for _, check := range names {
				for _, mode := range []string{"racy", "safe"} {
					t.Run(check+"/"+mode, func(t *testing.T) {
						t.Setenv("COLLIDE_TEST_SQLITE", filepath.Join(t.TempDir(), "x.db"))
						path := filepath.Join("..", "..", "testdata", "profiles", "checkers", checkerBothWays[check]+".yaml")
						var out, stdout, stderr string
						var code int
						// A racy run that missed its race (exit 0) is run
						// again, at most twice: a race is a chance per burst.
						// A safe run is never retried.
						for attempt := 1; ; attempt++ {
							out = t.TempDir()
							args := []string{"run", "-q", "-out", out, "-set", "target.demo.mode=" + mode}
							switch db {
							case "postgres":
								args = append(args, "-set", "database.driver=postgres", "-set", "database.dsn="+testpg.New(t))
							case "mysql":
								args = append(args, "-set", "database.driver=mysql", "-set", "database.dsn="+testmysql.New(t))
							}
							code, stdout, stderr = collide(t, append(args, path)...)
							if mode == "safe" || code != 0 || attempt == 3 {
								break
							}
							t.Logf("racy run missed its race on attempt %d; running again", attempt)
						}
						want, verdict := 1, invariants.Fail
						if mode == "safe" {
							want, verdict = 0, invariants.Pass
						}
						res, err := report.ReadFile(out)
						if err != nil {
							t.Fatalf("exit %d: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
						}
						if code != want {
							t.Fatalf("exit %d, want %d (seed %d)\nstdout:\n%s\nstderr:\n%s", code, want, res.Seed, stdout, stderr)
						}
						if len(res.Invariants) != 1 || res.Invariants[0].Check != check || res.Invariants[0].Verdict != verdict {
							t.Fatalf("invariants %+v: want one %s invariant with verdict %s", res.Invariants, check, verdict)
						}
						// expect is the profile's own expression: it names no class.
						if mode == "racy" && check != "expect" && (res.Invariants[0].Anomaly == "" || res.Invariants[0].Fix == "") {
							t.Errorf("the failure names no anomaly or fix: %+v", res.Invariants[0])
						}
					})
				}
			}
		})
	}
}

// TestEveryCheckerProvenBothWays: every registered checker is shown to fail
// against a racy demo endpoint and pass against the safe one, through the
// CLI: by an invariant that TestBuiltinProfiles requires to fail on every
// racy run of a built-in profile (its safe run requires every invariant to
// pass), or by TestCheckersBothWays.
func TestEveryCheckerProvenBothWays(t *testing.T) {
	proven := map[string]string{}
	for check, file := range checkerBothWays {
		proven[check] = "testdata/profiles/checkers/" + file + ".yaml"
	}
	for _, b := range profiles.Builtins() {
		data, err := profiles.Builtin(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := profiles.Parse(b.Name+".yaml", data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range p.Invariants {
			if slices.Contains(builtinMustFail[b.Name], inv.Name) {
				proven[invariants.CheckName(inv)] = "built-in " + b.Name
			}
		}
	}
	for _, check := range invariants.Names() {
		if proven[check] == "" {
			t.Errorf("checker %s: no racy→FAIL and safe→PASS case against the demo (add one to builtinMustFail or checkerBothWays)", check)
		} else {
			t.Logf("%-15s %s", check, proven[check])
		}
	}
}
