package demo

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Mode: "racy", Driver: "sqlite", DSN: "/tmp/demo.db", Think: 2 * time.Millisecond}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string // substring of the error; "" means valid
	}{
		{"valid sqlite racy", func(c *Config) {}, ""},
		{"valid postgres safe", func(c *Config) { c.Mode, c.Driver, c.DSN = "safe", "postgres", "postgres://u:p@h/db" }, ""},
		{"zero think and conns", func(c *Config) { c.Think, c.MaxConns = 0, 0 }, ""},
		{"empty mode", func(c *Config) { c.Mode = "" }, `mode is empty: want "racy" or "safe"`},
		{"bad mode", func(c *Config) { c.Mode = "fast" }, `unknown mode "fast": want "racy" or "safe"`},
		{"mode is case-sensitive", func(c *Config) { c.Mode = "Safe" }, `unknown mode "Safe"`},
		{"valid mysql safe", func(c *Config) { c.Mode, c.Driver, c.DSN = "safe", "mysql", "u:p@tcp(127.0.0.1:3306)/db" }, ""},
		{"valid mariadb URL", func(c *Config) { c.Driver, c.DSN = "mysql", "mariadb://u:p@127.0.0.1/db?parseTime=false" }, ""},
		{"mysql DSN without a database", func(c *Config) { c.Driver, c.DSN = "mysql", "u:p@tcp(127.0.0.1:3306)/" }, "names no database"},
		{"bad mysql DSN", func(c *Config) { c.Driver, c.DSN = "mysql", "u:p@tcp(127.0.0.1:3306" }, "mysql DSN: "},
		{"empty driver", func(c *Config) { c.Driver = "" }, `driver is empty: want "sqlite", "postgres" or "mysql"`},
		{"bad driver", func(c *Config) { c.Driver = "oracle" }, `unknown driver "oracle": want "sqlite", "postgres" or "mysql"`},
		{"empty DSN", func(c *Config) { c.DSN = " " }, "sqlite DSN is empty"},
		{"in-memory sqlite", func(c *Config) { c.DSN = ":memory:" }, "in-memory"},
		{"negative think", func(c *Config) { c.Think = -time.Millisecond }, "think time -1ms is negative"},
		{"negative conns", func(c *Config) { c.MaxConns = -1 }, "max conns -1 is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
			// Open refuses what Validate refuses, before touching a database.
			if tc.want != "" {
				if _, err := Open(context.Background(), c); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Open() = %v, want the validation error", err)
				}
			}
		})
	}
}

func TestSQLiteDSN(t *testing.T) {
	t.Parallel()
	const defaults = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	for _, tc := range []struct{ in, want string }{
		{"/tmp/x/demo.db", "file:/tmp/x/demo.db?" + defaults},
		{"demo.db", "file:demo.db?" + defaults},
		{"/tmp/a b#c%d.db", "file:/tmp/a b%23c%25d.db?" + defaults},
		{"file:/tmp/x.db", "file:/tmp/x.db?" + defaults},
		{"file:/tmp/x.db?cache=private", "file:/tmp/x.db?cache=private&" + defaults},
		{"/tmp/x.db?_pragma=busy_timeout%285000%29&_txlock=deferred",
			"file:/tmp/x.db?_pragma=busy_timeout%285000%29&_txlock=deferred&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"},
		{"/tmp/x.db?_journal_mode=DELETE&_pragma=Synchronous(FULL)",
			"file:/tmp/x.db?_journal_mode=DELETE&_pragma=Synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"},
	} {
		if got := sqliteDSN(tc.in); got != tc.want {
			t.Errorf("sqliteDSN(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// TestOpenSQLitePaths: a plain path with awkward characters and a "file:"
// DSN both open, in WAL mode, and reopening an existing database is fine.
func TestOpenSQLitePaths(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a b#c")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "demo 1.db")
	for i, dsn := range []string{path, path, "file:" + filepath.Join(dir, "other.db")} {
		s, err := Open(context.Background(), Config{Mode: modeSafe, Driver: driverSQLite, DSN: dsn})
		if err != nil {
			t.Fatalf("open #%d %q: %v", i, dsn, err)
		}
		var mode string
		if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
			t.Errorf("%q: journal_mode = %q, %v; want wal", dsn, mode, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at the plain path: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, Config{Mode: modeSafe, Driver: driverSQLite, DSN: filepath.Join(t.TempDir(), "missing", "dir", "demo.db")})
	if err == nil || !strings.Contains(err.Error(), "demo: ping sqlite") {
		t.Errorf("sqlite in a missing directory: %v, want a ping error", err)
	}
	_, err = Open(ctx, Config{Mode: modeSafe, Driver: driverPostgres, DSN: "postgres://nobody:x@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"})
	if err == nil || !strings.Contains(err.Error(), "demo: ping postgres") {
		t.Errorf("postgres on a closed port: %v, want a ping error", err)
	}
	_, err = Open(ctx, Config{Mode: modeSafe, Driver: driverMySQL, DSN: "nobody:x@tcp(127.0.0.1:1)/none?timeout=2s"})
	if err == nil || !strings.Contains(err.Error(), "demo: ping mysql") {
		t.Errorf("mysql on a closed port: %v, want a ping error", err)
	}
}

// TestHealthz: 200 with the mode while the database answers, 503 once it is
// closed; Close is idempotent; Mode reports the mode.
func TestHealthz(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		for _, mode := range modes {
			t.Run(b.driver+"/"+mode, func(t *testing.T) {
				t.Parallel()
				s, srv := serve(t, b, mode, 0)
				if s.Mode() != mode {
					t.Errorf("Mode() = %q, want %q", s.Mode(), mode)
				}
				type health struct {
					OK    bool   `json:"ok"`
					Mode  string `json:"mode"`
					Error string `json:"error"`
				}
				r := mustCall(t, http.MethodGet, srv.URL+"/healthz", nil, "")
				if h := decode[health](t, r); r.status != http.StatusOK || r.ctype != "application/json" || !h.OK || h.Mode != mode {
					t.Fatalf("healthz = %d %q %s", r.status, r.ctype, r.body)
				}
				if string(r.body) != `{"ok":true,"mode":"`+mode+`"}`+"\n" {
					t.Errorf("healthz body %q", r.body)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				r = mustCall(t, http.MethodGet, srv.URL+"/healthz", nil, "")
				if h := decode[health](t, r); r.status != http.StatusServiceUnavailable || h.OK || h.Error == "" {
					t.Fatalf("healthz after Close = %d %s, want 503", r.status, r.body)
				}
				if r := mustCall(t, http.MethodPost, srv.URL+"/counters/1/increment", nil, ""); r.status != http.StatusInternalServerError {
					t.Fatalf("increment after Close = %d %s, want 500", r.status, r.body)
				}
			})
		}
	}
}

// TestRoutes: unknown paths are 404 and wrong methods 405 (the ServeMux's
// own answers).
func TestRoutes(t *testing.T) {
	t.Parallel()
	_, srv := serve(t, backends[0], modeSafe, 0)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodGet, "/counters/1/increment", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/orders", http.StatusMethodNotAllowed},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
	} {
		if r := mustCall(t, tc.method, srv.URL+tc.path, nil, ""); r.status != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, r.status, tc.want)
		}
	}
}
