package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/internal/testpg"
)

// urlProfile is a profile for a running service (nothing listens at the
// URL: validate sends no request) whose database and query the test picks.
func urlProfile(driver, dsn, query, expect string) string {
	if expect == "" {
		expect = `value <= ok("incr") + unknown("incr")`
	}
	return `name: validate-connect
target:
  url: http://127.0.0.1:9
database:
  driver: ` + driver + `
  dsn: "` + dsn + `"
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    rate: 10/s
    duration: 1s
invariants:
  - name: counted
    query: ` + query + `
    expect: ` + expect + `
`
}

// TestValidateConnect: `collide validate -connect` prepares every
// invariant query on the real database (SQLite, PostgreSQL, MariaDB/MySQL,
// Redis) without running it: a good query is ok; a missing column or table,
// an unknown Redis command, or an expect reading a column the query does
// not return exits 2 naming file:line:field; an unreachable database exits
// 3; and a profile whose tables the run makes (the demo) says why its
// queries were not prepared. MySQL and Redis cases skip when no server
// answers, and fail instead under CI=true.
func TestValidateConnect(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sqlitePath := filepath.Join(dir, "app.db")
	pgDSN := testpg.New(t)
	for _, db := range []struct{ driver, dsn string }{{"sqlite", sqlitePath}, {"postgres", pgDSN}} {
		d, err := database.Open(ctx, db.driver, db.dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Exec(ctx, "CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER)"); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
	// MySQL/MariaDB and Redis, when they run (as in CI).
	skipped := map[string]string{}
	redisURL := "redis://127.0.0.1:6379/0"
	if d, err := database.Open(ctx, "redis", redisURL); err != nil {
		redisURL, skipped["redis"] = "", err.Error()
	} else {
		d.Close()
	}
	mysqlDSN := "collide:collide@tcp(127.0.0.1:3306)/collide"
	if d, err := database.Open(ctx, "mysql", mysqlDSN); err != nil {
		mysqlDSN, skipped["mysql"] = "", err.Error()
	} else {
		if err := d.Exec(ctx, "CREATE TABLE IF NOT EXISTS collide_validate_counters (id INTEGER PRIMARY KEY, value INTEGER)"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d.Exec(ctx, "DROP TABLE IF EXISTS collide_validate_counters")
			d.Close()
		})
	}
	for _, tc := range []struct {
		name, driver, dsn, query, expect string
		wantCode                         int
		want                             string // in stdout (exit 0) or stderr
	}{
		{name: "sqlite good", driver: "sqlite", dsn: sqlitePath, query: "SELECT value FROM counters WHERE id = 1", want: "queries prepared on the database"},
		{name: "sqlite missing column", driver: "sqlite", dsn: sqlitePath, query: "SELECT valu FROM counters WHERE id = 1", wantCode: 2, want: "p.yaml:14: invariants[0].query: sqlite rejects"},
		{name: "sqlite expect reads a missing column", driver: "sqlite", dsn: sqlitePath, query: "SELECT value FROM counters WHERE id = 1", expect: "valeu >= 0", wantCode: 2, want: `p.yaml:15: invariants[0].expect: the expression reads valeu, but the query returns only the columns value (did you mean "value"?)`},
		{name: "redis good", driver: "redis", dsn: redisURL, query: "GET counter:1"},
		{name: "redis unknown command", driver: "redis", dsn: redisURL, query: "GTE counter:1", wantCode: 2, want: `p.yaml:14: invariants[0].query: redis: "GTE counter:1": unknown command GTE`},
		{name: "mysql missing column", driver: "mysql", dsn: mysqlDSN, query: "SELECT valu FROM collide_validate_counters WHERE id = 1", wantCode: 2, want: "p.yaml:14: invariants[0].query: mysql rejects"},
		{name: "mysql good", driver: "mysql", dsn: mysqlDSN, query: "SELECT value FROM collide_validate_counters WHERE id = 1", want: "queries prepared on the database"},
		{name: "postgres good", driver: "postgres", dsn: pgDSN, query: "SELECT value FROM counters WHERE id = 1", want: "queries prepared on the database"},
		{name: "postgres missing table", driver: "postgres", dsn: pgDSN, query: "SELECT value FROM countrs WHERE id = 1", wantCode: 2, want: `p.yaml:14: invariants[0].query: postgres rejects "SELECT value FROM countrs WHERE id = 1": ERROR: relation "countrs" does not exist`},
		{name: "postgres unreachable", driver: "postgres", dsn: "postgres://collide:collide@127.0.0.1:1/collide?sslmode=disable&connect_timeout=2", query: "SELECT value FROM counters", wantCode: 3, want: "stack: database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.yaml")
			if tc.dsn == "" {
				if os.Getenv("CI") == "true" {
					t.Fatalf("no %s server under CI=true (%s)", tc.driver, skipped[tc.driver])
				}
				t.Skipf("no %s server (%s)", tc.driver, skipped[tc.driver])
			}
			if err := os.WriteFile(path, []byte(urlProfile(tc.driver, tc.dsn, tc.query, tc.expect)), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := collide(t, "validate", "-connect", path)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout, stderr)
			}
			out := stdout
			if code != 0 {
				out = stderr
			}
			if !strings.Contains(strings.ReplaceAll(out, filepath.Dir(path)+string(filepath.Separator), ""), tc.want) {
				t.Fatalf("output %q does not contain %q", out, tc.want)
			}
			// Without -connect the same profile is ok: nothing is opened.
			if code, _, stderr := collide(t, "validate", path); code != 0 {
				t.Fatalf("without -connect: exit %d: %s", code, stderr)
			}
		})
	}
	t.Run("demo target", func(t *testing.T) {
		code, stdout, stderr := collide(t, "validate", "-connect", "counter")
		if code != 0 || !strings.Contains(stdout, "queries not prepared: the service creates its tables") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
	})
}

// TestRunStopsOnBadQueryBeforeLoad: `collide run` of a built-in whose
// invariant query names a missing column exits 2 naming the field, and its
// history holds no request: the attack never began.
func TestRunStopsOnBadQueryBeforeLoad(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, _, stderr := collide(t, "run", "-q", "-out", out, "-set", "invariants[0].query=SELECT valu FROM counters", "counter")
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "invariants[0].query: sqlite rejects") {
		t.Fatalf("stderr does not name the field:\n%s", stderr)
	}
	hist, err := os.ReadFile(filepath.Join(out, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 0 {
		t.Fatalf("history is not empty: %d bytes", len(hist))
	}
}
