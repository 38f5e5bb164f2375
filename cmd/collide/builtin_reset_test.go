package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/internal/testmysql"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// resetToxicity is the share of target connections reset_peer cuts in
// TestBuiltinProfilesUnderResets.
const resetToxicity = 0.3

// resetChaos is the -set that adds, to the profile's own faults, a
// reset_peer fault on the target link for the whole attack with toxicity
// resetToxicity — what a user types to try a profile on a flaky network
// (-set replaces the chaos list, so the profile's faults are repeated).
func resetChaos(t *testing.T, name string) string {
	t.Helper()
	p, err := profiles.Load(name, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tox := resetToxicity
	faults := append(slices.Clone(p.Chaos), profiles.Fault{Link: "target", Fault: "reset_peer", Toxicity: &tox})
	b, err := json.Marshal(faults) // JSON is YAML's flow syntax
	if err != nil {
		t.Fatal(err)
	}
	return "chaos=" + string(b)
}

// TestBuiltinProfilesUnderResets: every built-in profile, with a reset_peer
// fault cutting 30 % of the target connections for the whole attack (many
// unknown outcomes), still fails against the racy demo (exit 1, every
// invariant of builtinMustFail violated) and never fails nor errors against
// the safe one: exit 0, or 4 (inconclusive: too many unknown outcomes to
// tell) — on SQLite (three at a time), PostgreSQL and MariaDB (one at a
// time).
func TestBuiltinProfilesUnderResets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every built-in profile twice per database")
	}
	names := builtinNames(t)
	// The faults must bite: most safe runs see unknown outcomes (measured:
	// 21 of 26 — a profile whose few connections drew no reset sees none).
	var cut resetTally
	defer func() {
		t.Logf("safe runs with unknown outcomes: %d of %d", cut.withUnknown.Load(), cut.safe.Load())
		if 2*cut.withUnknown.Load() < cut.safe.Load() {
			t.Errorf("only %d of %d safe runs saw an unknown outcome: the reset_peer fault did not bite", cut.withUnknown.Load(), cut.safe.Load())
		}
	}()
	t.Run("sqlite", func(t *testing.T) {
		slots := make(chan struct{}, 3)
		for _, name := range names {
			if needsLink(t, name) {
				continue // a networked database only: PostgreSQL and MariaDB below
			}
			for _, mode := range []string{"racy", "safe"} {
				t.Run(name+"/"+mode, func(t *testing.T) {
					t.Parallel()
					slots <- struct{}{}
					defer func() { <-slots }()
					runUnderResets(t, &cut, name, mode)
				})
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := testpg.New(t)
		for _, name := range names {
			for _, mode := range []string{"racy", "safe"} {
				t.Run(name+"/"+mode, func(t *testing.T) {
					runUnderResets(t, &cut, name, mode, "-set", "database.driver=postgres", "-set", "database.dsn="+dsn)
				})
			}
		}
	})
	t.Run("mysql", func(t *testing.T) {
		dsn := testmysql.New(t)
		for _, name := range names {
			for _, mode := range []string{"racy", "safe"} {
				t.Run(name+"/"+mode, func(t *testing.T) {
					runUnderResets(t, &cut, name, mode, "-set", "database.driver=mysql", "-set", "database.dsn="+dsn)
				})
			}
		}
	})
}

// resetTally counts the safe runs, and those that saw unknown outcomes.
type resetTally struct{ safe, withUnknown atomic.Int64 }

// runUnderResets runs built-in profile name in mode under resetChaos and
// checks the verdict: racy must fail every invariant builtinMustFail names
// (a racy run that missed one is repeated, at most twice: a miss proves
// nothing about soundness; an error is never repeated), safe must pass or
// be inconclusive, at once.
func runUnderResets(t *testing.T, cut *resetTally, name, mode string, sets ...string) {
	t.Helper()
	sets = append([]string{"-set", resetChaos(t, name)}, sets...)
	for attempt := 1; ; attempt++ {
		out := t.TempDir()
		args := append([]string{"run", "-q", "-out", out, "-set", "target.demo.mode=" + mode}, sets...)
		code, stdout, stderr := collide(t, append(args, name)...)
		res, err := report.ReadFile(out)
		if err != nil {
			t.Fatalf("exit %d: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
		}
		t.Logf("%s %s attempt %d: exit %d, %s", name, mode, attempt, code, unknownShare(res))
		if !slices.ContainsFunc(res.Chaos, func(e chaos.Event) bool {
			return e.Fault == "reset_peer" && e.Link == "target" && e.Action == "added" && e.Toxicity == resetToxicity
		}) {
			t.Fatalf("%s %s: the chaos timeline has no reset_peer toxic added with toxicity %v: %+v", name, mode, resetToxicity, res.Chaos)
		}
		if mode == "safe" {
			cut.safe.Add(1)
			if res.Totals.Unknown > 0 {
				cut.withUnknown.Add(1)
			}
			if code != 0 && code != 4 {
				t.Fatalf("%s safe under resets: exit %d, want 0 or 4 (seed %d)\nstdout:\n%s\nstderr:\n%s", name, code, res.Seed, stdout, stderr)
			}
			for _, inv := range res.Invariants {
				if inv.Verdict == invariants.Fail || inv.Verdict == invariants.Error {
					t.Errorf("%s safe: invariant %q: %s %s %s", name, inv.Name, inv.Verdict, inv.Actual, inv.Error)
				}
			}
			return
		}
		for _, inv := range res.Invariants {
			if inv.Verdict == invariants.Error {
				t.Fatalf("%s racy: invariant %q could not run: %s", name, inv.Name, inv.Error)
			}
		}
		if missed := missedRaces(res, name); len(missed) > 0 && attempt < 3 {
			// A racy run that missed a race (each burst is a chance, and
			// on a loaded 2-core machine some runs hit none: the same
			// happens without resets) or could not tell is run again, at
			// most twice. An error never is, nor a safe run: a wrong
			// verdict there is a bug.
			t.Logf("%s racy attempt %d missed %q; running again", name, attempt, missed)
			continue
		}
		if code != 1 {
			t.Fatalf("%s racy under resets: exit %d, want 1 (seed %d)\nstdout:\n%s\nstderr:\n%s", name, code, res.Seed, stdout, stderr)
		}
		verdict := lastLine(stdout)
		for _, inv := range builtinMustFail[name] {
			i := slices.IndexFunc(res.Invariants, func(r invariants.Result) bool { return r.Name == inv })
			switch {
			case i < 0:
				t.Errorf("%s: the result has no invariant %q", name, inv)
			case res.Invariants[i].Verdict != invariants.Fail:
				t.Errorf("%s racy (seed %d): invariant %q: verdict %s, want fail: %s %s\n%s", name, res.Seed, inv, res.Invariants[i].Verdict,
					res.Invariants[i].Actual, res.Invariants[i].Error, verdict)
			}
		}
		return
	}
}

// missedRaces lists the invariants of builtinMustFail[name] that the racy
// run res did not fail.
func missedRaces(res *report.Result, name string) []string {
	var missed []string
	for _, inv := range builtinMustFail[name] {
		i := slices.IndexFunc(res.Invariants, func(r invariants.Result) bool { return r.Name == inv })
		if i < 0 || res.Invariants[i].Verdict != invariants.Fail {
			missed = append(missed, inv)
		}
	}
	return missed
}

// unknownShare describes how many requests of a run ended unknown.
func unknownShare(res *report.Result) string {
	var parts []string
	for _, inv := range res.Invariants {
		parts = append(parts, fmt.Sprintf("%s=%s", inv.Check, inv.Verdict))
	}
	return fmt.Sprintf("unknown %.0f%% (max %.0f%%); invariants %s", 100*res.UnknownFraction, 100*res.MaxUnknown, strings.Join(parts, " "))
}
