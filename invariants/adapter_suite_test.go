package invariants

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// runAdapterSuite checks one database adapter against a real database. open
// returns a fresh, empty database for each subtest.
func runAdapterSuite(t *testing.T, open func(t *testing.T) DB) {
	ctx := context.Background()

	t.Run("types are normalized", func(t *testing.T) {
		db := open(t)
		mustExec(t, db,
			`CREATE TABLE kinds (i INTEGER, b BIGINT, f DOUBLE PRECISION, s TEXT, ok BOOLEAN, n TEXT, ts TIMESTAMP)`,
			`INSERT INTO kinds VALUES (42, 9007199254740993, 1.5, 'héllo', TRUE, NULL, '2024-01-02 03:04:05')`)
		rows, err := db.Query(ctx, `SELECT i, b, f, s, ok, n, ts FROM kinds`)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(rows.Columns, ","), "i,b,f,s,ok,n,ts"; got != want {
			t.Errorf("columns = %s, want %s", got, want)
		}
		if len(rows.Values) != 1 {
			t.Fatalf("got %d rows, want 1", len(rows.Values))
		}
		row := rows.Values[0]
		want := []any{int64(42), int64(9007199254740993), 1.5, "héllo", true, nil}
		for i, w := range want {
			if row[i] != w {
				t.Errorf("%s = %#v (%T), want %#v (%T)", rows.Columns[i], row[i], row[i], w, w)
			}
		}
		ts, ok := row[6].(time.Time)
		if !ok || !ts.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Errorf("ts = %#v (%T), want 2024-01-02T03:04:05Z", row[6], row[6])
		}
	})

	t.Run("aggregates and numerics are int64 or float64", func(t *testing.T) {
		db := open(t)
		mustExec(t, db,
			`CREATE TABLE nums (v BIGINT)`,
			`INSERT INTO nums VALUES (400), (412)`)
		rows, err := db.Query(ctx, `SELECT count(*) AS c, sum(v) AS s, CAST(812 AS NUMERIC) AS n, CAST(2.5 AS NUMERIC) AS half, avg(v) AS mean FROM nums`)
		if err != nil {
			t.Fatal(err)
		}
		want := []any{int64(2), int64(812), int64(812), 2.5}
		for i, w := range want {
			got := rows.Values[0][i]
			if got != w {
				t.Errorf("%s = %#v (%T), want %#v (%T)", rows.Columns[i], got, got, w, w)
			}
		}
		// avg is NUMERIC 406.0000 in PostgreSQL (integral, so int64) and REAL
		// in SQLite: either way a number equal to 406.
		switch m := rows.Values[0][4].(type) {
		case int64:
			if m != 406 {
				t.Errorf("mean = %d, want 406", m)
			}
		case float64:
			if m != 406 {
				t.Errorf("mean = %g, want 406", m)
			}
		default:
			t.Errorf("mean = %#v (%T), want a number", m, m)
		}
	})

	t.Run("query returns every row in order", func(t *testing.T) {
		db := open(t)
		mustExec(t, db,
			`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)`,
			`INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')`)
		rows, err := db.Query(ctx, `SELECT id, name FROM items ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows.Values {
			got = append(got, formatRow(rows.Columns, r))
		}
		if want := `id=1 name="a"|id=2 name="b"|id=3 name="c"`; strings.Join(got, "|") != want {
			t.Errorf("rows = %s, want %s", strings.Join(got, "|"), want)
		}
		empty, err := db.Query(ctx, `SELECT id FROM items WHERE id > 10`)
		if err != nil {
			t.Fatal(err)
		}
		if len(empty.Values) != 0 || len(empty.Columns) != 1 {
			t.Errorf("empty result = %+v, want one column and no rows", empty)
		}
	})

	t.Run("each streams many rows and stops on the callback's error", func(t *testing.T) {
		db := open(t)
		const q = `WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 20000) SELECT x, 'k-' || x AS k FROM s`
		var n, sum int64
		cols, err := db.Each(ctx, q, func(row []any) error {
			n++
			sum += row[0].(int64)
			if _, ok := row[1].(string); !ok {
				t.Fatalf("k is %T, want string", row[1])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(cols, ",") != "x,k" || n != 20000 || sum != 20000*20001/2 {
			t.Errorf("cols=%v n=%d sum=%d, want [x k] 20000 %d", cols, n, sum, 20000*20001/2)
		}
		stop := errors.New("stop")
		n = 0
		_, err = db.Each(ctx, q, func([]any) error {
			n++
			if n == 5 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 5 {
			t.Errorf("err=%v after %d rows, want stop after 5", err, n)
		}
	})

	t.Run("errors", func(t *testing.T) {
		db := open(t)
		if err := db.Exec(ctx, `CREAT TABLE x (id INTEGER)`); err == nil {
			t.Error("exec of a syntax error: no error")
		}
		if _, err := db.Query(ctx, `SELEC 1`); err == nil {
			t.Error("query of a syntax error: no error")
		} else if !strings.Contains(err.Error(), db.Driver()) || !strings.Contains(err.Error(), "SELEC 1") {
			t.Errorf("error %q should name the driver and the statement", err)
		}
		if _, err := db.Query(ctx, `SELECT * FROM no_such_table`); err == nil {
			t.Error("query of a missing table: no error")
		}
		if _, err := db.Each(ctx, `SELECT * FROM no_such_table`, func([]any) error { return nil }); err == nil {
			t.Error("each over a missing table: no error")
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.Query(cctx, `SELECT 1`); err == nil {
			t.Error("query with a canceled context: no error")
		}
	})

	t.Run("close", func(t *testing.T) {
		db := open(t)
		if err := db.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		if _, err := db.Query(ctx, `SELECT 1`); err == nil {
			t.Error("query after close: no error")
		}
		if err := db.Exec(ctx, `SELECT 1`); err == nil {
			t.Error("exec after close: no error")
		}
	})
}

func TestAdapters(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			open := d.opener(t)
			t.Run("driver name", func(t *testing.T) {
				if got := open(t).Driver(); got != d.name {
					t.Errorf("Driver() = %q, want %q", got, d.name)
				}
			})
			runAdapterSuite(t, open)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("unknown driver lists the known ones", func(t *testing.T) {
		_, err := Open(ctx, "oracle", "x")
		if err == nil || !strings.Contains(err.Error(), "postgres, sqlite") {
			t.Errorf("err = %v, want the known drivers listed", err)
		}
	})
	t.Run("empty dsn", func(t *testing.T) {
		if _, err := Open(ctx, "postgres", " "); err == nil {
			t.Error("no error")
		}
	})
	for _, dsn := range []string{
		"postgres://collide:s3cr3t-pw@127.0.0.1:1/collide?sslmode=disable&connect_timeout=5",
		"host=127.0.0.1 port=1 user=collide password=s3cr3t-pw dbname=collide sslmode=disable connect_timeout=5",
		"postgres://collide@127.0.0.1:1/collide?sslmode=disable&password=s3cr3t-pw",
	} {
		t.Run("unreachable postgres "+dsn[:10], func(t *testing.T) {
			db, err := Open(ctx, "postgres", dsn)
			if err == nil {
				db.Close()
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cr3t-pw") {
				t.Errorf("error leaks the password: %s", msg)
			}
			if !strings.Contains(msg, "xxxxx") || !strings.Contains(msg, "127.0.0.1") {
				t.Errorf("error should show the redacted DSN: %s", msg)
			}
			if errors.Unwrap(err) == nil {
				t.Errorf("error does not wrap its cause: %s", msg)
			}
		})
	}
	t.Run("sqlite in a missing directory", func(t *testing.T) {
		db, err := Open(ctx, "sqlite", "/nonexistent-dir/sub/collide.db")
		if err == nil {
			db.Close()
			t.Fatal("no error")
		}
		if !strings.Contains(err.Error(), "/nonexistent-dir/sub/collide.db") {
			t.Errorf("error should name the file: %v", err)
		}
	})
}
