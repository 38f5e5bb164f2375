package main

import (
	"strings"
	"testing"

	"github.com/collide-dev/collide/internal/testmysql"
	"github.com/collide-dev/collide/report"
)

// TestDemoMySQLDatabaseLink: the in-process demo on MariaDB connects
// through the database link when a fault uses it (the DSN rewritten to the
// link's address), and the counter profile still fails racy and passes
// safe with 2 ms of latency on every statement.
func TestDemoMySQLDatabaseLink(t *testing.T) {
	for _, tc := range []struct {
		mode string
		code int
	}{{"racy", 1}, {"safe", 0}} {
		t.Run(tc.mode, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := collide(t, "run", "-out", out, "-set", "target.demo.mode="+tc.mode,
				"-set", "database.driver=mysql", "-set", "database.dsn="+testmysql.New(t),
				"-set", "chaos=[{link: database, fault: latency, latency: 2ms}]", "counter")
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stderr, "database link 127.0.0.1:") || !strings.Contains(stderr, "→ 127.0.0.1:3306") {
				t.Errorf("progress names no database link to MariaDB:\n%s", stderr)
			}
			res, err := report.ReadFile(out)
			if err != nil {
				t.Fatal(err)
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
