package invariants

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/internal/testpg"
)

// openSQLiteTest opens a fresh SQLite file in the test's temp dir.
func openSQLiteTest(t *testing.T) DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := Open(ctx, "sqlite", filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresOpener creates one private PostgreSQL database (see testpg) for
// parent and returns an opener that gives each test its own schema in it:
// creating a database per test is slow, a schema is cheap.
func postgresOpener(parent *testing.T) func(t *testing.T) DB {
	parent.Helper()
	dsn := testpg.New(parent)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := Open(ctx, "postgres", dsn)
	if err != nil {
		parent.Fatalf("open postgres: %v", err)
	}
	parent.Cleanup(func() { admin.Close() }) // before testpg drops the database
	var n atomic.Int64
	return func(t *testing.T) DB {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		schema := fmt.Sprintf("case_%d", n.Add(1))
		if err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		db, err := Open(ctx, "postgres", dsn+sep+"search_path="+schema)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// MySQL/MariaDB and Redis test servers, started by
// .ci/services-mariadb-redis.sh. Outside CI an unreachable server skips the
// tests that need it, with the reason; under CI (CI=true) it fails them.
const (
	envMySQLDSN     = "COLLIDE_TEST_MYSQL_DSN"
	defaultMySQLDSN = "collide:collide@tcp(127.0.0.1:3306)/collide"
	envRedisURL     = "COLLIDE_TEST_REDIS_URL"
	defaultRedisURL = "redis://127.0.0.1:6379/0"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// unreachable skips t, or fails it under CI.
func unreachable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unreachable under CI: %v", what, err)
	}
	t.Skipf("skipping: %s unreachable (run .ci/services-mariadb-redis.sh): %v", what, err)
}

// mysqlOpener checks that the MySQL server answers and returns an opener
// that creates a private database for each test and drops it afterwards.
func mysqlOpener(parent *testing.T) func(t *testing.T) DB {
	parent.Helper()
	adminDSN := envOr(envMySQLDSN, defaultMySQLDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := Open(ctx, "mysql", adminDSN)
	if err != nil {
		unreachable(parent, "MySQL at "+RedactDSN(adminDSN), err)
	}
	parent.Cleanup(func() { admin.Close() })
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		parent.Fatalf("%s: %v", envMySQLDSN, err)
	}
	return func(t *testing.T) DB {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		name := fmt.Sprintf("collide_test_%d_%d", time.Now().UnixNano()%1e9, rand.IntN(1e6))
		if err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("create database: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
				t.Logf("drop %s: %v", name, err)
			}
		})
		c := cfg.Clone()
		c.DBName = name
		db, err := Open(ctx, "mysql", c.FormatDSN())
		if err != nil {
			t.Fatalf("open mysql: %v", err)
		}
		t.Cleanup(func() { db.Close() }) // runs before the drop
		return db
	}
}

// redisOpener checks that the Redis server answers and returns an opener
// that gives each test a database number of its own: numbers 1… are claimed
// with SET collide:test:db:N token NX PX in database 0 (so test processes
// running at once share the server safely), flushed, and released after the
// test. A test waits while every number is taken.
func redisOpener(parent *testing.T) func(t *testing.T) DB {
	parent.Helper()
	url := envOr(envRedisURL, defaultRedisURL)
	opt, err := redis.ParseURL(url)
	if err != nil {
		parent.Fatalf("%s: %v", envRedisURL, err)
	}
	opt.DB = 0
	ctl := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ctl.Ping(ctx).Err(); err != nil {
		ctl.Close()
		unreachable(parent, "Redis at "+RedactDSN(url), err)
	}
	parent.Cleanup(func() { ctl.Close() })
	dbs := 16
	if kv, err := ctl.ConfigGet(ctx, "databases").Result(); err == nil {
		if n, err := strconv.Atoi(kv["databases"]); err == nil && n > 1 {
			dbs = n
		}
	}
	return func(t *testing.T) DB {
		t.Helper()
		token := strconv.FormatUint(rand.Uint64(), 36)
		deadline := time.Now().Add(60 * time.Second)
		n := 0
		for n == 0 {
			for i := 1; i < dbs; i++ {
				ok, err := ctl.SetNX(context.Background(), fmt.Sprintf("collide:test:db:%d", i), token, 2*time.Minute).Result()
				if err != nil {
					t.Fatalf("claim a redis database: %v", err)
				}
				if ok {
					n = i
					break
				}
			}
			if n == 0 {
				if time.Now().After(deadline) {
					t.Fatal("no free redis test database for 60s")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		key := fmt.Sprintf("collide:test:db:%d", n)
		o := *opt
		o.DB = n
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db, err := Open(ctx, "redis", redisURLWithDB(url, n))
		if err != nil {
			t.Fatalf("open redis: %v", err)
		}
		if err := db.Exec(ctx, "FLUSHDB"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := redis.NewClient(&o)
			c.FlushDB(ctx)
			c.Close()
			db.Close()
			ctl.Eval(ctx, `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`, []string{key}, token)
		})
		return db
	}
}

// redisURLWithDB replaces the database number of a redis:// URL.
func redisURLWithDB(url string, n int) string {
	scheme, rest, _ := strings.Cut(url, "://")
	hostPart, query, hasQuery := strings.Cut(rest, "?")
	if i := strings.Index(hostPart, "/"); i >= 0 {
		hostPart = hostPart[:i]
	}
	out := fmt.Sprintf("%s://%s/%d", scheme, hostPart, n)
	if hasQuery {
		out += "?" + query
	}
	return out
}

// dialect is one SQL database the shared suites run on.
type dialect struct {
	name string
	// opener is called once per suite and returns a function giving each
	// test a fresh, empty database.
	opener func(parent *testing.T) func(t *testing.T) DB
	// series is a query whose column x counts from 1 to n.
	series func(n int) string
	// concat is the SQL concatenating two text expressions.
	concat func(a, b string) string
}

func recursiveSeries(n int) string {
	return fmt.Sprintf(`WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %d) SELECT x FROM s`, n)
}

// digitSeries counts without recursion (MariaDB stops recursive CTEs at
// 1000 iterations by default): a cross join of decimal digits.
func digitSeries(n int) string {
	digits := "SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9"
	places := 1
	for p := 10; p < n; p *= 10 {
		places++
	}
	var from, sum []string
	mul := 1
	for i := range places {
		from = append(from, fmt.Sprintf("(%s) d%d", digits, i))
		sum = append(sum, fmt.Sprintf("%d * d%d.d", mul, i))
		mul *= 10
	}
	return fmt.Sprintf("SELECT x FROM (SELECT %s + 1 AS x FROM %s) s WHERE x <= %d ORDER BY x", strings.Join(sum, " + "), strings.Join(from, " CROSS JOIN "), n)
}

func pipeConcat(a, b string) string { return a + " || " + b }

var drivers = []dialect{
	{"sqlite", func(*testing.T) func(*testing.T) DB { return openSQLiteTest }, recursiveSeries, pipeConcat},
	{"postgres", postgresOpener, recursiveSeries, pipeConcat},
	{"mysql", mysqlOpener, digitSeries, func(a, b string) string { return "CONCAT(" + a + ", " + b + ")" }},
}

func mustExec(t *testing.T, db DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if err := db.Exec(context.Background(), s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}

// counts is ok, fail, unknown.
type counts [3]int

// newTally builds a tally with the given outcome counts per operation.
func newTally(byOp map[string]counts) *history.Tally {
	t := history.NewTally()
	for op, c := range byOp {
		for i, o := range []history.Outcome{history.OK, history.Fail, history.Unknown} {
			for range c[i] {
				t.Add(&history.Op{Op: op, Outcome: o})
			}
		}
	}
	return t
}

// t0 is the start of every test history.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// hop builds a history op: invoked at ms after t0, completed took ms later.
// ok answers 200, fail 409, unknown has no status and a timeout error.
func hop(id uint64, name, key string, out history.Outcome, at, took int) hOp {
	o := history.Op{ID: id, Op: name, Key: key, Worker: int(id), Outcome: out, Sent: true,
		Invoke: t0.Add(time.Duration(at) * time.Millisecond), Complete: t0.Add(time.Duration(at+took) * time.Millisecond)}
	switch out {
	case history.OK:
		o.Status = 200
	case history.Fail:
		o.Status = 409
	default:
		o.Error = "context deadline exceeded"
	}
	return hOp(o)
}

type hOp history.Op

// val adds a rendered request value.
func (o hOp) val(k, v string) hOp {
	m := map[string]string{}
	for a, b := range o.Values {
		m[a] = b
	}
	m[k] = v
	o.Values = m
	return o
}

// capt adds a captured response value.
func (o hOp) capt(k string, v any) hOp {
	m := map[string]any{}
	for a, b := range o.Captures {
		m[a] = b
	}
	m[k] = v
	o.Captures = m
	return o
}

func (o hOp) status(s int) hOp { o.Status = s; return o }

// writeHistory writes ops as a history file in dir and returns its path
// and tally; the ops go through JSON, as in a run.
func writeHistory(t testing.TB, dir string, ops []hOp) (string, *history.Tally) {
	t.Helper()
	path := filepath.Join(dir, "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		op := history.Op(ops[i])
		if err := w.Append(&op); err != nil {
			t.Fatal(err)
		}
	}
	tally := w.Tally()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, tally
}
