package invariants

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/dbtest"
)

// TestCheckStatement prepares invariant queries on every real database
// without running them: a good statement passes, a syntax error, a missing
// table and a missing column are *database.StatementError (bad input, exit 2), and
// nothing is executed (the table stays empty after a prepared INSERT).
func TestCheckStatement(t *testing.T) {
	type stmt struct {
		name, q string
		bad     bool
	}
	sqlCases := func(param string) []stmt {
		return []stmt{
			{name: "good", q: "SELECT v FROM t WHERE id = " + param},
			{name: "good insert not run", q: "INSERT INTO t (id, v) VALUES (1, 2)"},
			{name: "syntax", q: "SELEC v FROM t", bad: true},
			{name: "missing table", q: "SELECT v FROM no_such_table", bad: true},
			{name: "missing column", q: "SELECT nope FROM t", bad: true},
		}
	}
	for _, db := range []struct {
		name   string
		open   func(t *testing.T) database.DB
		create string
		cases  []stmt
	}{
		{name: "sqlite", open: dbtest.SQLite, create: "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", cases: sqlCases("?")},
		{name: "postgres", open: dbtest.Postgres(t), create: "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", cases: sqlCases("$1")},
		{name: "mysql", open: dbtest.MySQL(t), create: "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", cases: sqlCases("?")},
		{name: "redis", open: dbtest.Redis(t), cases: []stmt{
			{name: "good", q: "GET counter:1"},
			{name: "good keys", q: "KEYS lock:*"},
			{name: "unknown command", q: "GETT counter:1", bad: true},
		}},
	} {
		t.Run(db.name, func(t *testing.T) {
			d := db.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if db.create != "" {
				dbtest.MustExec(t, d, db.create)
			}
			for _, tc := range db.cases {
				t.Run(tc.name, func(t *testing.T) {
					checked, err := CheckStatement(ctx, d, tc.q)
					if !checked {
						t.Fatalf("%s cannot check statements", db.name)
					}
					var se *database.StatementError
					switch {
					case tc.bad && !errors.As(err, &se):
						t.Fatalf("err = %v, want a *database.StatementError", err)
					case !tc.bad && err != nil:
						t.Fatalf("err = %v, want nil", err)
					}
				})
			}
			if db.create != "" {
				rows, err := d.Query(ctx, "SELECT count(*) FROM t")
				if err != nil {
					t.Fatal(err)
				}
				if n := rows.Values[0][0]; n != int64(0) {
					t.Fatalf("the prepared INSERT ran: %v rows", n)
				}
			}
		})
	}
	t.Run("bound variables", func(t *testing.T) {
		d := dbtest.SQLite(t)
		dbtest.MustExec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
		b := BindVars(d, map[string]string{"id": "7"})
		ctx := context.Background()
		if _, err := CheckStatement(ctx, b, "SELECT v FROM t WHERE id = {{id}}"); err != nil {
			t.Fatalf("bound good statement: %v", err)
		}
		var se *database.StatementError
		if _, err := CheckStatement(ctx, b, "SELECT vv FROM t WHERE id = {{id}}"); !errors.As(err, &se) {
			t.Fatalf("bound bad statement: err = %v, want a *database.StatementError", err)
		}
	})
}

// TestResultColumns: the columns of a query's result are known without
// reading a row, on every SQL database; a statement that cannot be a
// subquery (an UPDATE) says it cannot tell, and does not run.
func TestResultColumns(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(t *testing.T) database.DB
	}{
		{"sqlite", dbtest.SQLite},
		{"postgres", dbtest.Postgres(t)},
		{"mysql", dbtest.MySQL(t)},
	} {
		t.Run(db.name, func(t *testing.T) {
			d := db.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dbtest.MustExec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", "INSERT INTO t (id, v) VALUES (1, 5)")
			cols, ok := ResultColumns(ctx, d, "SELECT v, id AS key_id FROM t WHERE id = 1;")
			if !ok || strings.Join(cols, ",") != "v,key_id" {
				t.Fatalf("columns %v, ok %v", cols, ok)
			}
			if cols, ok := ResultColumns(ctx, d, "UPDATE t SET v = 99"); ok {
				t.Fatalf("an UPDATE gave columns %v", cols)
			}
			rows, err := d.Query(ctx, "SELECT v FROM t")
			if err != nil {
				t.Fatal(err)
			}
			if v := rows.Values[0][0]; v != int64(5) {
				t.Fatalf("the UPDATE ran: v = %v", v)
			}
		})
	}
}
