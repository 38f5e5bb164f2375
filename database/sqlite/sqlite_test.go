package sqlite

import (
	"errors"
	"testing"

	"github.com/collide-dev/collide/database"
)

func TestConnString(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"path", "/tmp/x.db", "/tmp/x.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"},
		{"file uri", "file:/tmp/x.db", "file:/tmp/x.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"},
		{"other pragma", "file:/tmp/x.db?_pragma=foreign_keys(1)", "file:/tmp/x.db?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"},
		{"own busy timeout", "file:/tmp/x.db?_pragma=busy_timeout(500)", "file:/tmp/x.db?_pragma=busy_timeout(500)&_pragma=journal_mode(WAL)"},
		{"read only", "file:/tmp/x.db?mode=ro", "file:/tmp/x.db?mode=ro&_pragma=busy_timeout(10000)"},
		{"memory", ":memory:", ":memory:?_pragma=busy_timeout(10000)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := connString(tc.in); got != tc.want {
				t.Errorf("connString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDSN: SQLite has no network (no address, no proxy) and no password.
func TestDSN(t *testing.T) {
	for _, tc := range []struct{ name, dsn string }{
		{"path", "/tmp/run/collide.db"},
		{"relative", "collide.db"},
		{"file uri", "file:/tmp/run/collide.db?mode=ro&_pragma=busy_timeout(5000)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := (Driver{}).Address(tc.dsn); !errors.Is(err, database.ErrNoNetwork) {
				t.Errorf("Address err = %v, want ErrNoNetwork", err)
			}
			if _, err := (Driver{}).Through(tc.dsn, "127.0.0.1:1"); !errors.Is(err, database.ErrNoNetwork) {
				t.Errorf("Through err = %v, want ErrNoNetwork", err)
			}
			if got := (Driver{}).Redact(tc.dsn); got != tc.dsn {
				t.Errorf("Redact = %q, want it unchanged", got)
			}
		})
	}
}
