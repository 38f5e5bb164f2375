package dbtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
)

// Statements are the statements the adapter suite runs on one
// database: SQL for the SQL databases, commands for Redis. An empty Skip
// reason runs the case; a non-empty one skips it, saying why.
type Statements struct {
	typesSetup []string // one row: i, b, f, s, ok, n, ts
	typesQuery string
	typesSkip  string
	boolIsInt  bool // BOOLEAN reads as the integer 1 (MySQL's TINYINT(1))

	aggSetup []string // count, sum, an integral and a fractional decimal, a mean
	aggQuery string
	aggSkip  string

	orderSetup []string
	orderQuery string // rows id=1 "a", 2 "b", 3 "c"
	orderWant  string
	emptyQuery string // one column, no rows

	manySetup []string
	manyQuery string // 20000 rows (int 1…20000, text)
	manyCols  string

	badExec, badQuery string // errors of the database's own
	missingSetup      []string
	missingQuery      string // a statement that fails at run time
	trivial           string // succeeds on an open database
}

// SQLStatements are the statements of a SQL dialect (Dialects holds
// collide's).
func SQLStatements(d Dialect) Statements {
	st := Statements{
		typesSetup: []string{
			`CREATE TABLE kinds (i INTEGER, b BIGINT, f DOUBLE PRECISION, s TEXT, ok BOOLEAN, n TEXT, ts TIMESTAMP)`,
			`INSERT INTO kinds VALUES (42, 9007199254740993, 1.5, 'héllo', TRUE, NULL, '2024-01-02 03:04:05')`},
		typesQuery:   `SELECT i, b, f, s, ok, n, ts FROM kinds`,
		aggSetup:     []string{`CREATE TABLE nums (v BIGINT)`, `INSERT INTO nums VALUES (400), (412)`},
		aggQuery:     `SELECT count(*) AS c, sum(v) AS s, CAST(812 AS NUMERIC) AS n, CAST(2.5 AS NUMERIC) AS half, avg(v) AS mean FROM nums`,
		orderSetup:   []string{`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)`, `INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')`},
		orderQuery:   `SELECT id, name FROM items ORDER BY id`,
		orderWant:    `id=1 name="a"|id=2 name="b"|id=3 name="c"`,
		emptyQuery:   `SELECT id FROM items WHERE id > 10`,
		manyQuery:    fmt.Sprintf(`SELECT x, %s AS k FROM (%s) q`, d.Concat("'k-'", "x"), d.Series(20000)),
		manyCols:     "x,k",
		badExec:      `CREAT TABLE x (id INTEGER)`,
		badQuery:     `SELEC 1`,
		missingQuery: `SELECT * FROM no_such_table`,
		trivial:      `SELECT 1`,
	}
	if d.Name == "mysql" {
		// TIMESTAMP converts through the session time zone; DATETIME does not.
		st.typesSetup[0] = strings.Replace(st.typesSetup[0], "ts TIMESTAMP", "ts DATETIME", 1)
		st.boolIsInt = true
		st.aggQuery = `SELECT count(*) AS c, sum(v) AS s, CAST(812 AS DECIMAL) AS n, CAST(2.5 AS DECIMAL(3,1)) AS half, avg(v) AS mean FROM nums`
	}
	return st
}

// RedisStatements are the suite's cases as Redis commands.
var RedisStatements = Statements{
	typesSkip:    "Redis has no typed columns: replies are texts and integers (the redis values test covers them)",
	aggSkip:      "Redis has no aggregates or NUMERIC type",
	orderSetup:   []string{`HSET items 1 a 2 b 3 c`},
	orderQuery:   `HGETALL items`,
	orderWant:    `field=1 value="a"|field=2 value="b"|field=3 value="c"`,
	emptyQuery:   `GET no_such_key`,
	manySetup:    []string{`EVAL "for i = 1, 20000 do redis.call('HSET', KEYS[1], i, 'k-' .. i) end return 1" 1 many`},
	manyQuery:    `HGETALL many`,
	manyCols:     "field,value",
	badExec:      `CREAT x`,
	badQuery:     `SELEC 1`,
	missingSetup: []string{`SET str x`},
	missingQuery: `HGETALL str`, // WRONGTYPE
	trivial:      `PING`,
}

// RunAdapterSuite checks one database driver against a real database:
// the driver's name, normalized types, row order, streaming, errors and
// Close. open returns a fresh, empty database for each subtest; name is
// the driver's registered name.
func RunAdapterSuite(t *testing.T, name string, open func(t *testing.T) database.DB, st Statements) {
	t.Run("driver name", func(t *testing.T) {
		if got := open(t).Driver(); got != name {
			t.Errorf("Driver() = %q, want %q", got, name)
		}
	})
	ctx := context.Background()

	t.Run("types are normalized", func(t *testing.T) {
		if st.typesSkip != "" {
			t.Skip(st.typesSkip)
		}
		db := open(t)
		MustExec(t, db, st.typesSetup...)
		rows, err := db.Query(ctx, st.typesQuery)
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
		if st.boolIsInt {
			t.Log("BOOLEAN is TINYINT(1) here: it reads as the integer 1")
			want[4] = int64(1)
		}
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
		if st.aggSkip != "" {
			t.Skip(st.aggSkip)
		}
		db := open(t)
		MustExec(t, db, st.aggSetup...)
		rows, err := db.Query(ctx, st.aggQuery)
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
		// avg is NUMERIC 406.0000 in PostgreSQL and DECIMAL in MySQL
		// (integral, so int64) and REAL in SQLite: either way a number
		// equal to 406.
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
		MustExec(t, db, st.orderSetup...)
		rows, err := db.Query(ctx, st.orderQuery)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows.Values {
			got = append(got, FormatRow(rows.Columns, r))
		}
		if strings.Join(got, "|") != st.orderWant {
			t.Errorf("rows = %s, want %s", strings.Join(got, "|"), st.orderWant)
		}
		empty, err := db.Query(ctx, st.emptyQuery)
		if err != nil {
			t.Fatal(err)
		}
		if len(empty.Values) != 0 || len(empty.Columns) != 1 {
			t.Errorf("empty result = %+v, want one column and no rows", empty)
		}
	})

	t.Run("each streams many rows and stops on the callback's error", func(t *testing.T) {
		db := open(t)
		MustExec(t, db, st.manySetup...)
		var n, sum int64
		cols, err := db.Each(ctx, st.manyQuery, func(row []any) error {
			n++
			x, ok := row[0].(int64)
			if !ok {
				return fmt.Errorf("first column is %T, want int64", row[0])
			}
			sum += x
			if _, ok := row[1].(string); !ok {
				return fmt.Errorf("second column is %T, want string", row[1])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(cols, ",") != st.manyCols || n != 20000 || sum != 20000*20001/2 {
			t.Errorf("cols=%v n=%d sum=%d, want %s 20000 %d", cols, n, sum, st.manyCols, 20000*20001/2)
		}
		stop := errors.New("stop")
		n = 0
		_, err = db.Each(ctx, st.manyQuery, func([]any) error {
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
		if err := db.Exec(ctx, st.badExec); err == nil {
			t.Error("exec of a syntax error: no error")
		}
		if _, err := db.Query(ctx, st.badQuery); err == nil {
			t.Error("query of a syntax error: no error")
		} else if !strings.Contains(err.Error(), db.Driver()) || !strings.Contains(err.Error(), st.badQuery) {
			t.Errorf("error %q should name the driver and the statement", err)
		}
		MustExec(t, db, st.missingSetup...)
		if _, err := db.Query(ctx, st.missingQuery); err == nil {
			t.Errorf("query %q: no error", st.missingQuery)
		}
		if _, err := db.Each(ctx, st.missingQuery, func([]any) error { return nil }); err == nil {
			t.Errorf("each over %q: no error", st.missingQuery)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.Query(cctx, st.trivial); err == nil {
			t.Error("query with a canceled context: no error")
		}
		if err := db.Exec(cctx, st.trivial); err == nil {
			t.Error("exec with a canceled context: no error")
		}
	})

	t.Run("close", func(t *testing.T) {
		db := open(t)
		if err := db.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		if _, err := db.Query(ctx, st.trivial); err == nil {
			t.Error("query after close: no error")
		}
		if err := db.Exec(ctx, st.trivial); err == nil {
			t.Error("exec after close: no error")
		}
	})
}

// MustExec runs each statement on db, failing t at the first error.
func MustExec(t *testing.T, db database.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if err := db.Exec(context.Background(), s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}

// FormatRow writes a row as col=value …, texts quoted.
func FormatRow(cols []string, row []any) string {
	parts := make([]string, len(cols))
	for i, col := range cols {
		v := fmt.Sprint(row[i])
		if s, ok := row[i].(string); ok {
			v = strconv.Quote(s)
		}
		parts[i] = col + "=" + v
	}
	return strings.Join(parts, " ")
}
