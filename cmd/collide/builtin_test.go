package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/internal/testmysql"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// builtinMustFail names, for every built-in profile, the invariants that the
// racy demo must violate on every run with the profile's defaults (make
// bench-detect measures how reliably: docs/benchmarks.md#detection). A
// built-in profile missing here fails TestBuiltinProfilesCovered.
var builtinMustFail = map[string][]string{
	"counter":           {"every acknowledged increment is counted exactly once"},
	"double-submit":     {"one order per idempotency key", "every acknowledged create left exactly its order"},
	"two-tab-edit":      {"every acknowledged save raised the version once, none based on a stale version"},
	"collection-add":    {"every acknowledged item is in the project, once"},
	"out-of-order-jobs": {"every report keeps its newest acknowledged job"},
	"bulk-edit":         {"every acknowledged edit is kept"},
	"locks":             {"never two holders of one lock at once"},
	"toctou-debit":      {"no balance goes below zero", "every debit that took effect is accounted for, none beyond the balance"},
	"oversell":          {"stock never goes below zero", "never more sold than the stock"},
	"webhook-replay":    {"every acknowledged event was applied, once"},
	"register":          {"every key behaves as one register"},
	"first-or-create":   {"a user favorites a resource at most once", "every acknowledged copy names the same favorite"},
	"stale-cache":       {"the cached key behaves as one register"},
	"compound-op":       {"no member without a profile"},
}

// TestBuiltinProfiles: every built-in profile, run through the CLI with its
// defaults, fails against the racy demo (exit 1, the verdict line naming the
// violated invariants) and passes against the safe one (exit 0) — on SQLite
// (the default), on PostgreSQL, on MariaDB, and for locks also with Redis.
// SQLite cases run three at a time (all 26 at once on 2 cores spread a
// burst's arrivals until toctou-debit drew 24 accounts without an
// overdraft); PostgreSQL and MariaDB ones one at a time, since every run
// opens up to 32 connections.
func TestBuiltinProfiles(t *testing.T) {
	names := builtinNames(t)
	t.Run("sqlite", func(t *testing.T) {
		slots := make(chan struct{}, 3)
		for _, name := range names {
			if needsLink(t, name) {
				continue // its database link needs a networked database: PostgreSQL and MariaDB below
			}
			for _, mode := range []string{"racy", "safe"} {
				t.Run(name+"/"+mode, func(t *testing.T) {
					t.Parallel()
					slots <- struct{}{}
					defer func() { <-slots }()
					runBuiltin(t, name, mode)
				})
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		// One database for every case: each profile's setup resets the
		// tables it uses, and the cases run one after the other.
		dsn := testpg.New(t)
		for _, name := range names {
			for _, mode := range []string{"racy", "safe"} {
				t.Run(name+"/"+mode, func(t *testing.T) {
					runBuiltin(t, name, mode, "-set", "database.driver=postgres", "-set", "database.dsn="+dsn)
				})
			}
		}
	})
	t.Run("mysql", func(t *testing.T) {
		// One database for every case, as on PostgreSQL.
		dsn := testmysql.New(t)
		for _, name := range names {
			for _, mode := range []string{"racy", "safe"} {
				t.Run(name+"/"+mode, func(t *testing.T) {
					runBuiltin(t, name, mode, "-set", "database.driver=mysql", "-set", "database.dsn="+dsn)
				})
			}
		}
	})
	t.Run("redis", func(t *testing.T) {
		url := builtinRedisURL(t)
		// Lock names of this test's own: the Redis database is shared.
		prefix := fmt.Sprintf("builtin-%d", time.Now().UnixNano())
		for _, db := range []string{"sqlite", "postgres", "mysql"} {
			for _, mode := range []string{"racy", "safe"} {
				t.Run("locks/"+db+"/"+mode, func(t *testing.T) {
					args := []string{"-set", "target.demo.redis=" + url,
						"-set", "operations[0].request.url=/locks/" + prefix + "-" + db + "-{{key}}/run",
						"-set", "operations[1].request.url=/locks/" + prefix + "-" + db + "-crash-{{key}}/run"}
					switch db {
					case "postgres":
						args = append(args, "-set", "database.driver=postgres", "-set", "database.dsn="+testpg.New(t))
					case "mysql":
						args = append(args, "-set", "database.driver=mysql", "-set", "database.dsn="+testmysql.New(t))
					}
					runBuiltin(t, "locks", mode, args...)
				})
			}
		}
	})
}

// runBuiltin runs built-in profile name against the demo in mode and checks
// the exit code, the verdict line and the result file.
func runBuiltin(t *testing.T, name, mode string, sets ...string) *report.Result {
	t.Helper()
	// An inconclusive run (exit 4: too many unknown outcomes, or a
	// linearizability search past its timeout) proves nothing either way; on a
	// loaded 2-core machine it happens, so such a run is repeated, at most
	// twice. So is a racy run that missed one of its races (a pass, or a fail
	// without every invariant of builtinMustFail): a race is a chance per
	// burst, and a miss says nothing about a checker (make bench-detect
	// measures the rates). A safe run's verdict, and an error, are never
	// retried.
	for attempt := 1; ; attempt++ {
		out := t.TempDir()
		args := append([]string{"run", "-q", "-out", out, "-set", "target.demo.mode=" + mode}, sets...)
		code, stdout, stderr := collide(t, append(args, name)...)
		retry := code == 4
		if mode == "racy" && (code == 0 || code == 1) {
			if res, err := report.ReadFile(out); err == nil && len(missedRaces(res, name)) > 0 {
				retry = true
			}
		}
		if !retry || attempt == 3 {
			return checkBuiltin(t, name, mode, out, code, stdout, stderr)
		}
		t.Logf("%s %s: exit %d on attempt %d (inconclusive or a race missed); running again", name, mode, code, attempt)
	}
}

func checkBuiltin(t *testing.T, name, mode, out string, code int, stdout, stderr string) *report.Result {
	t.Helper()
	want := 0
	if mode == "racy" {
		want = 1
	}
	res, err := report.ReadFile(out)
	if err != nil {
		t.Fatalf("exit %d: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	if code != want {
		t.Fatalf("%s %s: exit %d, want %d (seed %d: replay with -seed %d)\nstdout:\n%s\nstderr:\n%s",
			name, mode, code, want, res.Seed, res.Seed, stdout, stderr)
	}
	verdict := lastLine(stdout)
	if !strings.HasPrefix(verdict, "verdict:") {
		t.Fatalf("last line is not the verdict: %q\n%s", verdict, stdout)
	}
	if mode == "safe" {
		if res.Verdict != report.Pass {
			t.Fatalf("safe: verdict %s\n%s", res.Verdict, stdout)
		}
		return res
	}
	for _, inv := range builtinMustFail[name] {
		if !strings.Contains(verdict, fmt.Sprintf("%q violated", inv)) {
			t.Errorf("%s racy (seed %d): the verdict line does not name %q as violated: %q", name, res.Seed, inv, verdict)
		}
		i := slices.IndexFunc(res.Invariants, func(r invariants.Result) bool { return r.Name == inv })
		switch {
		case i < 0:
			t.Errorf("%s: the result has no invariant %q", name, inv)
		case res.Invariants[i].Verdict != invariants.Fail:
			t.Errorf("%s: invariant %q: verdict %s, want fail", name, inv, res.Invariants[i].Verdict)
		}
	}
	checkCounterexamples(t, name, out, res)
	return res
}

// checkCounterexamples: every failed invariant of a real run explains
// itself ("Let …; Then …") with its class and fix, and every op its
// counterexample names is in the run's history as named.
func checkCounterexamples(t *testing.T, name, out string, res *report.Result) {
	t.Helper()
	var named []invariants.OpRef
	for _, inv := range res.Invariants {
		if inv.Verdict != invariants.Fail {
			continue
		}
		if !strings.HasPrefix(inv.Explanation, "Let ") || !strings.Contains(inv.Explanation, "; Then ") {
			t.Errorf("%s: %q explains itself as %q, want \"Let …; Then …\"", name, inv.Name, inv.Explanation)
		}
		if inv.Check != "expect" && (inv.Anomaly == "" || inv.Fix == "") {
			t.Errorf("%s: %q: anomaly %q, fix %q: want both", name, inv.Name, inv.Anomaly, inv.Fix)
		}
		named = append(named, inv.Ops...)
	}
	if len(named) == 0 {
		return
	}
	ops, err := history.ReadAll(filepath.Join(out, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[uint64]history.Op{}
	for _, o := range ops {
		byID[o.ID] = o
	}
	for _, r := range named {
		o, ok := byID[r.ID]
		if !ok || o.Op != r.Op || o.Key != r.Key || !o.Invoke.Equal(r.Invoke) || !o.Complete.Equal(r.Complete) || o.Outcome != r.Outcome || o.Status != r.Status {
			t.Errorf("%s: counterexample op %+v is not in the history as named (history: %+v)", name, r, o)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// needsLink reports whether built-in name uses a fault of the SQL tap
// (cut_after_statement), which needs a database link and so a networked
// database: it runs on PostgreSQL and MariaDB, not SQLite.
func needsLink(t *testing.T, name string) bool {
	t.Helper()
	p, err := profiles.Load(name, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return slices.ContainsFunc(p.Chaos, func(f profiles.Fault) bool {
		k, err := fault.Lookup(f.Fault)
		return err == nil && k.Wire()
	})
}

// builtinNames lists the built-in profiles.
func builtinNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, b := range profiles.Builtins() {
		names = append(names, b.Name)
	}
	if len(names) == 0 {
		t.Fatal("no built-in profiles")
	}
	return names
}

// TestBuiltinProfilesCovered: every built-in profile says which invariants
// its racy run must violate, and each of those exists in the profile; every
// profile runs on the embedded SQLite demo by default (racy), starts with a
// comment header and has a one-line about.
func TestBuiltinProfilesCovered(t *testing.T) {
	for _, name := range builtinNames(t) {
		must, ok := builtinMustFail[name]
		if !ok || len(must) == 0 {
			t.Errorf("built-in %s: add the invariants its racy run must violate to builtinMustFail", name)
			continue
		}
		p, err := profiles.Load(name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, inv := range must {
			if !slices.ContainsFunc(p.Invariants, func(i profiles.Invariant) bool { return i.Name == inv }) {
				t.Errorf("%s: no invariant named %q", name, inv)
			}
		}
		if needsLink(t, name) {
			// A statement-boundary fault needs the database link: the
			// racy demo on the local PostgreSQL by default.
			if p.Target.Demo == nil || p.Target.Demo.Mode != "racy" || p.Database.Driver != "postgres" {
				t.Errorf("%s: want the racy demo on PostgreSQL by default, got target %+v, database %+v", name, p.Target, p.Database)
			}
			if data, _ := profiles.Builtin(name); !strings.Contains(string(data), "${COLLIDE_PG_DSN:-") {
				t.Errorf("%s: take the DSN from ${COLLIDE_PG_DSN:-…}", name)
			}
		} else {
			if p.Target.Demo == nil || p.Target.Demo.Mode != "racy" || p.Database.Driver != "sqlite" || p.Database.DSN != "" {
				t.Errorf("%s: want the racy demo on the embedded SQLite database by default, got target %+v, database %+v", name, p.Target, p.Database)
			}
			for _, f := range p.Chaos {
				if f.Link == "database" {
					t.Errorf("%s: database-link chaos needs postgres; document it as a -set instead", name)
				}
			}
		}
		data, err := profiles.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "# ") {
			t.Errorf("%s: start with a comment header saying what the profile provokes and proves", name)
		}
		if p.About == "" || strings.Contains(p.About, "\n") {
			t.Errorf("%s: about must be one line, got %q", name, p.About)
		}
	}
	for name := range builtinMustFail {
		if _, err := profiles.Builtin(name); err != nil {
			t.Errorf("builtinMustFail names %s, which is not a built-in profile", name)
		}
	}
}

// TestListAndValidateBuiltins: `collide list` shows every built-in with its
// about line, and `collide validate` accepts every one.
func TestListAndValidateBuiltins(t *testing.T) {
	code, out, errOut := collide(t, "list")
	if code != 0 {
		t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
	}
	names := builtinNames(t)
	for _, b := range profiles.Builtins() {
		if !strings.Contains(out, " "+b.Name+" ") {
			t.Errorf("list does not show %s:\n%s", b.Name, out)
		}
		if first := strings.Fields(b.About); len(first) == 0 || !strings.Contains(out, first[0]) {
			t.Errorf("list does not show the about line of %s:\n%s", b.Name, out)
		}
	}
	code, out, errOut = collide(t, append([]string{"validate"}, names...)...)
	if code != 0 {
		t.Fatalf("validate builtins: exit %d\n%s%s", code, out, errOut)
	}
	for _, n := range names {
		if !strings.Contains(out, "ok  "+n+" ") {
			t.Errorf("validate does not report %s ok:\n%s", n, out)
		}
	}
}

// builtinRedisURL is the Redis server of the locks profile's Redis cases:
// COLLIDE_TEST_REDIS_URL or the local default, once it answers a ping.
// Outside CI an unreachable server skips; under CI it fails.
func builtinRedisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("COLLIDE_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("COLLIDE_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis at %s unreachable under CI: %v", opt.Addr, err)
		}
		t.Skipf("skipping: Redis at %s unreachable: %v", opt.Addr, err)
	}
	return url
}
