package discover

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/dbtest"
	"github.com/collide-dev/collide/internal/testpg"
)

// handler is a piece of service code: what one request does with its
// database. q writes ? placeholders in the driver's syntax.
type handler func(ctx context.Context, db *sql.DB, q func(string) string) error

// wireCases are service snippets, racy and protected, run for real on
// each server through a chaos/tap so the analysis sees the statements as
// the driver sends them (prepared texts, BEGIN / START TRANSACTION, SET
// TRANSACTION before a serializable BeginTx on MySQL).
var wireCases = []struct {
	name string
	run  handler
	want string // "class table", "" for none
}{
	{"read then write", func(ctx context.Context, db *sql.DB, q func(string) string) error {
		var v int64
		if err := db.QueryRowContext(ctx, q(`SELECT value FROM counters WHERE id = ?`), 1).Scan(&v); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, q(`UPDATE counters SET value = ? WHERE id = ?`), v+1, 1)
		return err
	}, "counter counters"},
	{"FOR UPDATE in the transaction", func(ctx context.Context, db *sql.DB, q func(string) string) error {
		return inTx(ctx, db, nil, func(tx *sql.Tx) error {
			var v int64
			if err := tx.QueryRowContext(ctx, q(`SELECT value FROM counters WHERE id = ? FOR UPDATE`), 1).Scan(&v); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, q(`UPDATE counters SET value = ? WHERE id = ?`), v+1, 1)
			return err
		})
	}, ""},
	{"serializable transaction", func(ctx context.Context, db *sql.DB, q func(string) string) error {
		return inTx(ctx, db, &sql.TxOptions{Isolation: sql.LevelSerializable}, func(tx *sql.Tx) error {
			var v int64
			if err := tx.QueryRowContext(ctx, q(`SELECT value FROM counters WHERE id = ?`), 1).Scan(&v); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, q(`UPDATE counters SET value = ? WHERE id = ?`), v+1, 1)
			return err
		})
	}, ""},
	{"read committed transaction", func(ctx context.Context, db *sql.DB, q func(string) string) error {
		return inTx(ctx, db, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
			var v int64
			if err := tx.QueryRowContext(ctx, q(`SELECT value FROM counters WHERE id = ?`), 1).Scan(&v); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, q(`UPDATE counters SET value = ? WHERE id = ?`), v+1, 1)
			return err
		})
	}, "counter counters"},
	{"atomic increment", func(ctx context.Context, db *sql.DB, q func(string) string) error {
		var v int64
		if err := db.QueryRowContext(ctx, q(`SELECT value FROM counters WHERE id = ?`), 1).Scan(&v); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, q(`UPDATE counters SET value = value + 1 WHERE id = ?`), 1)
		return err
	}, ""},
	{"find then create, no unique index", func(ctx context.Context, db *sql.DB, q func(string) string) error {
		return findThenCreate(ctx, db, q, "loose")
	}, "double-submit loose"},
	{"find then create, unique index", func(ctx context.Context, db *sql.DB, q func(string) string) error {
		return findThenCreate(ctx, db, q, "tight")
	}, ""},
}

func findThenCreate(ctx context.Context, db *sql.DB, q func(string) string, table string) error {
	var n int64
	if err := db.QueryRowContext(ctx, q(`SELECT COUNT(*) FROM `+table+` WHERE k = ?`), "a").Scan(&n); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, q(`INSERT INTO `+table+` (k, note) VALUES (?, ?)`), "a", "n")
	return err
}

func inTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// TestAnalyzeThroughTap runs wireCases on PostgreSQL and MariaDB/MySQL
// through a tap, reads the schema from the catalog and analyses each.
func TestAnalyzeThroughTap(t *testing.T) {
	t.Parallel()
	servers := []struct {
		name, driver, sqlDriver string
		dsn                     func(t *testing.T) string
		proto                   tap.Protocol
		numbered                bool
	}{
		{"postgres", "postgres", "pgx", func(t *testing.T) string { return testpg.New(t) }, tap.Postgres, true},
		{"mysql", "mysql", "mysql", dbtest.MySQLDatabases(t), tap.MySQL, false},
	}
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dsn := sv.dsn(t)
			d, err := database.Lookup(sv.driver)
			if err != nil {
				t.Fatal(err)
			}
			direct, err := database.Open(ctx, sv.driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { direct.Close() })
			for _, s := range []string{
				`CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)`,
				`INSERT INTO counters (id, value) VALUES (1, 0)`,
				`CREATE TABLE loose (id INTEGER PRIMARY KEY, k VARCHAR(32), note VARCHAR(32))`,
				`CREATE INDEX loose_k ON loose (k)`,
				`CREATE TABLE tight (id INTEGER PRIMARY KEY, k VARCHAR(32), note VARCHAR(32))`,
				`CREATE UNIQUE INDEX tight_k ON tight (k)`,
			} {
				if sv.driver == "postgres" {
					s = strings.Replace(s, "id INTEGER PRIMARY KEY", "id SERIAL PRIMARY KEY", 1)
				} else {
					s = strings.Replace(s, "id INTEGER PRIMARY KEY", "id INTEGER AUTO_INCREMENT PRIMARY KEY", 1)
				}
				if err := direct.Exec(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			schema, err := ReadSchema(ctx, direct)
			if err != nil {
				t.Fatal(err)
			}
			_, upstream, err := d.Address(dsn)
			if err != nil {
				t.Fatal(err)
			}
			rec := tap.NewRecorder(0)
			tp, err := tap.Start(ctx, tap.Config{Upstream: upstream, Protocol: sv.proto, Recorder: rec})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tp.Close() })
			through, err := d.Through(dsn, tp.Addr())
			if err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open(sv.sqlDriver, through)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			db.SetMaxOpenConns(2)
			q := func(s string) string { return s }
			if sv.numbered {
				q = numbered
			}
			for _, tc := range wireCases {
				t.Run(tc.name, func(t *testing.T) {
					start := time.Now()
					if err := tc.run(ctx, db, q); err != nil {
						t.Fatal(err)
					}
					end := time.Now()
					tr := Trace{Request: Request{ID: "wire:" + tc.name, Endpoint: "POST /" + tc.name}, Start: start, End: end, Statements: rec.Window(start, end)}
					for k, s := range tr.Statements {
						t.Logf("%d. [conn %d txn %d] %s", k+1, s.ConnID, s.TxnID, redactSQL(s.Text, false))
					}
					var got []string
					for _, f := range Analyze([]Trace{tr}, schema) {
						got = append(got, string(f.Class)+" "+f.Table)
					}
					if strings.Join(got, "|") != tc.want {
						var lines []string
						for k, s := range tr.Statements {
							lines = append(lines, fmt.Sprintf("  %d. [conn %d txn %d] %s", k+1, s.ConnID, s.TxnID, redactSQL(s.Text, false)))
						}
						t.Errorf("findings %q, want %q; statements:\n%s", got, tc.want, strings.Join(lines, "\n"))
					}
				})
			}
		})
	}
}

// numbered rewrites ? placeholders as $1, $2 ….
func numbered(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
