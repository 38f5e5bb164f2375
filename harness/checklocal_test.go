package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/profiles"
)

// TestCheckLocalAsksTheDriver: the loopback check reads the database's
// address from its driver — TCP hosts must be loopback, Unix sockets and
// SQLite files are local — and a DSN the driver cannot parse is a profile
// error naming database.dsn.
func TestCheckLocalAsksTheDriver(t *testing.T) {
	for _, tc := range []struct {
		name, driver, dsn string
		want              string // "" for no error
	}{
		{name: "postgres loopback", driver: "postgres", dsn: "postgres://u:p@127.0.0.1:5432/db"},
		{name: "postgres remote", driver: "postgres", dsn: "postgres://u:p@192.0.2.1:5432/db", want: "database.dsn"},
		{name: "postgres unix socket", driver: "postgres", dsn: "host=/var/run/postgresql dbname=db"},
		{name: "mysql loopback", driver: "mysql", dsn: "u:p@tcp(127.0.0.1:3306)/db"},
		{name: "mysql ipv6 loopback", driver: "mysql", dsn: "u:p@tcp([::1])/db"},
		{name: "mysql remote", driver: "mysql", dsn: "u:p@tcp(192.0.2.1:3306)/db", want: "database.dsn"},
		{name: "mysql unix socket", driver: "mysql", dsn: "u:p@unix(/run/mysqld/mysqld.sock)/db"},
		{name: "mysql unparseable", driver: "mysql", dsn: "not a dsn", want: "database.dsn: driver mysql"},
		{name: "redis remote", driver: "redis", dsn: "redis://192.0.2.1:6379/0", want: "database.dsn"},
		{name: "redis unix socket", driver: "redis", dsn: "unix:///run/redis.sock?db=1"},
		{name: "sqlite file", driver: "sqlite", dsn: "/tmp/x.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := fmt.Sprintf(`name: local
target: {command: {run: [./svc]}}
database: {driver: %s, dsn: %q}
operations:
  - {name: op, request: {method: GET, url: /}, rate: 1/s, duration: 1s}
invariants:
  - {name: n, expect: ok("op") >= 0}
`, tc.driver, tc.dsn)
			p, err := profiles.Parse("local.yaml", []byte(yaml), nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = (&run{p: p}).checkLocal(ctx, tc.dsn)
			var pe *ProfileError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkLocal = %v, want nil", err)
			case tc.want != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("checkLocal = %v, want a profile error containing %q", err, tc.want)
			}
		})
	}
}
