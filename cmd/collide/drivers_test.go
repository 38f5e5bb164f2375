package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
	"github.com/collide-dev/collide/report"
)

// TestDatabaseLinkOtherDrivers runs a tiny service (testdata/dbservice)
// that keeps a counter on a real MariaDB and on a real Redis, with a
// latency fault on the database link: the run passes, the link's upstream
// is the server's own address (not PostgreSQL's 5432), and the service's
// DSN ({{database_dsn}}) points at the link, through which it queried.
func TestDatabaseLinkOtherDrivers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups are Unix-only")
	}
	svc := goBuild(t, t.TempDir(), "dbservice", "./testdata/dbservice")
	linkRE := regexp.MustCompile(`database link (\S+) → (\S+)`)
	for _, tc := range []struct {
		name     string
		dbs      func(parent *testing.T) func(t *testing.T) string
		upstream string // the server's port, as the link's upstream ends
		init     []string
		incr     string
		read     string
	}{
		{
			name: "mysql", dbs: dbtest.MySQLDatabases, upstream: ":3306",
			init: []string{"CREATE TABLE counters (id INT PRIMARY KEY, value BIGINT NOT NULL)", "INSERT INTO counters VALUES (1, 0)"},
			incr: "UPDATE counters SET value = value + 1 WHERE id = 1", read: "SELECT value FROM counters WHERE id = 1",
		},
		{
			name: "redis", dbs: dbtest.RedisDatabases, upstream: ":6379",
			init: []string{"SET counter:1 0"}, incr: "INCR counter:1", read: "GET counter:1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := tc.dbs(t)(t)
			run := []string{svc, "-listen", "127.0.0.1:{{port}}", "-driver", tc.name, "-dsn", "{{database_dsn}}", "-incr", tc.incr, "-read", tc.read}
			for _, s := range tc.init {
				run = append(run, "-init", s)
			}
			quoted := make([]string, len(run))
			for i, a := range run {
				quoted[i] = fmt.Sprintf("%q", a)
			}
			prof := filepath.Join(t.TempDir(), "link-"+tc.name+".yaml")
			body := fmt.Sprintf(`name: link-%s
target:
  command:
    run: [%s]
    health: /healthz
    health_timeout: 20s
database:
  driver: %s
  dsn: %q
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    rate: 40/s
    duration: 1s
invariants:
  - name: every increment counted once
    query: %q
    expect: value >= ok("incr") && value <= ok("incr") + unknown("incr")
chaos:
  - {link: database, fault: latency, latency: 5ms}
`, tc.name, strings.Join(quoted, ", "), tc.name, dsn, tc.read)
			if err := os.WriteFile(prof, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			code, stdout, stderr := collide(t, "run", "-out", out, prof)
			if code != 0 {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			m := linkRE.FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("no database link in the progress:\n%s", stderr)
			}
			listen, upstream := m[1], m[2]
			if !strings.HasSuffix(upstream, tc.upstream) {
				t.Errorf("database link upstream = %s, want the %s server's address (…%s)", upstream, tc.name, tc.upstream)
			}
			log, err := os.ReadFile(filepath.Join(out, "service.log"))
			if err != nil {
				t.Fatal(err)
			}
			if want := "dbservice: database at tcp " + listen; !strings.Contains(string(log), want) {
				t.Errorf("the service's DSN does not go through the link: service.log lacks %q:\n%s", want, log)
			}
			res, err := report.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if res.Totals.OK == 0 {
				t.Errorf("no increment went through the link: %+v", res.Totals)
			}
			var dbEvents int
			for _, e := range res.Chaos {
				if e.Link == "database" {
					dbEvents++
				}
			}
			if dbEvents < 2 {
				t.Errorf("no latency added and removed on the database link: %+v", res.Chaos)
			}
		})
	}
}

// TestDatabaseLinkBadDSN: `collide run` of a profile whose DSN the driver
// cannot put a database link in front of exits 2 naming database.dsn and
// the driver, before anything starts (the service's binary does not even
// exist, and no service log is written).
func TestDatabaseLinkBadDSN(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "bad-profiles")
	for _, tc := range []struct{ name, file, want string }{
		{"mysql not a dsn", "run-database-link-mysql-bad-dsn.yaml", "database.dsn: driver mysql cannot put the database link in front of not a dsn"},
		{"postgres bad url escape", "run-database-link-postgres-bad-dsn.yaml", `database.dsn: driver postgres cannot put the database link in front of postgres://%zz`},
		{"redis without a scheme", "run-database-link-redis-bad-dsn.yaml", "database.dsn: driver redis cannot put the database link in front of 127.0.0.1:6379"},
		{"mysql unix socket", "run-database-link-mysql-socket.yaml", "database.dsn: the database link needs a TCP address, but this mysql DSN connects to the unix socket"},
		{"sqlite", "run-database-link-sqlite.yaml", "chaos[0].link: the database link needs a networked database: sqlite runs inside the service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			code, _, stderr := collide(t, "run", "-out", out, filepath.Join(dir, tc.file))
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.file) || !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %s\nwant it to name %s and contain %q", stderr, tc.file, tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, "service.log")); err == nil {
				t.Error("a service was started")
			}
		})
	}
}
