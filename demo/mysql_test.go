package demo

import (
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestMySQLDSN: both DSN forms become go-sql-driver's, with
// clientFoundRows always on and parseTime, the dial timeout and the UTC
// session time zone added unless the DSN sets them.
func TestMySQLDSN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		dsn       string
		addr, db  string
		user, pw  string
		parseTime bool
		timeout   time.Duration
		timeZone  string
	}{
		{"driver form", "u:p@tcp(127.0.0.1:3306)/demo", "127.0.0.1:3306", "demo", "u", "p", true, 10 * time.Second, "'+00:00'"},
		{"mysql URL, default port", "mysql://u:p@127.0.0.1/demo", "127.0.0.1:3306", "demo", "u", "p", true, 10 * time.Second, "'+00:00'"},
		{"mariadb URL with port", "mariadb://u:p%40ss@localhost:3307/demo", "localhost:3307", "demo", "u", "p@ss", true, 10 * time.Second, "'+00:00'"},
		{"caller's settings kept", "u:p@tcp(h:1)/demo?parseTime=false&timeout=2s&time_zone=%27SYSTEM%27&clientFoundRows=false",
			"h:1", "demo", "u", "p", false, 2 * time.Second, "'SYSTEM'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := mysqlDSN(tc.dsn)
			if err != nil {
				t.Fatalf("mysqlDSN(%q): %v", tc.dsn, err)
			}
			cfg, err := mysql.ParseDSN(out)
			if err != nil {
				t.Fatalf("the result %q does not parse: %v", out, err)
			}
			if cfg.Addr != tc.addr || cfg.DBName != tc.db || cfg.User != tc.user || cfg.Passwd != tc.pw {
				t.Errorf("%q: addr %q db %q user %q pw %q, want %q %q %q %q", out, cfg.Addr, cfg.DBName, cfg.User, cfg.Passwd, tc.addr, tc.db, tc.user, tc.pw)
			}
			if !cfg.ClientFoundRows {
				t.Errorf("%q: clientFoundRows off: the demo reads 0 matched rows as not found", out)
			}
			if cfg.ParseTime != tc.parseTime || cfg.Timeout != tc.timeout || cfg.Params["time_zone"] != tc.timeZone {
				t.Errorf("%q: parseTime %v timeout %v time_zone %q, want %v %v %q", out, cfg.ParseTime, cfg.Timeout, cfg.Params["time_zone"], tc.parseTime, tc.timeout, tc.timeZone)
			}
		})
	}
}
