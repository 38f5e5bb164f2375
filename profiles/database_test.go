package profiles

import (
	"strings"
	"testing"
)

// TestDatabaseFieldsFromDrivers: database.* fields are checked by the
// named driver (DSN required or not for the target kind) and by its
// features (the demo runs on it or keeps its locks in it; collide can
// start it in a container),
// with the lists of drivers taken from the registry.
func TestDatabaseFieldsFromDrivers(t *testing.T) {
	const ops = `operations:
  - {name: op, request: {method: GET, url: /}, rate: 1/s, duration: 1s}
invariants:
  - {name: n, expect: ok("op") >= 0}
`
	for _, tc := range []struct {
		name, target, database, want string
	}{
		{name: "redis as the demo's lock store", target: `{demo: {mode: racy}}`, database: `{driver: redis, dsn: "redis://127.0.0.1:6379/0"}`},
		{name: "redis as the demo's lock store twice", target: `{demo: {mode: racy, redis: "redis://127.0.0.1:6379/1"}}`, database: `{driver: redis, dsn: "redis://127.0.0.1:6379/0"}`,
			want: "target.demo.redis: not with driver redis: database.dsn is the demo's lock store already"},
		{name: "redis without dsn", target: `{command: {run: [./svc]}}`, database: `{driver: redis}`,
			want: "database.dsn: required for driver redis"},
		{name: "mysql without dsn", target: `{command: {run: [./svc]}}`, database: `{driver: mysql}`,
			want: "database.dsn: required for driver mysql"},
		{name: "mysql in a container", target: `{command: {run: [./svc]}}`, database: `{driver: mysql, container: {}}`,
			want: `database.container: needs driver postgres (got "mysql")`},
		{name: "postgres in a container", target: `{command: {run: [./svc]}}`, database: `{driver: postgres, container: {}}`},
		{name: "sqlite on the demo without dsn", target: `{demo: {mode: racy}}`, database: `{driver: sqlite}`},
		{name: "sqlite at a url without dsn", target: `{url: "http://127.0.0.1:8080"}`, database: `{driver: sqlite}`,
			want: "database.dsn: required for driver sqlite with a url target"},
		{name: "redis for a command", target: `{command: {run: [./svc]}}`, database: `{driver: redis, dsn: "redis://127.0.0.1:6379/0"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "name: db\ntarget: " + tc.target + "\ndatabase: " + tc.database + "\n" + ops
			_, err := Parse("db.yaml", []byte(yaml), nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Parse = %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
