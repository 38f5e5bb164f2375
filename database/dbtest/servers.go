package dbtest

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

	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/all" // the drivers the openers use
	"github.com/collide-dev/collide/internal/testpg"
)

// SQLite opens a fresh SQLite file in the test's temp dir.
func SQLite(t *testing.T) database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := database.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Postgres creates one private PostgreSQL database (see testpg) for
// parent and returns an opener that gives each test its own schema in it:
// creating a database per test is slow, a schema is cheap.
func Postgres(parent *testing.T) func(t *testing.T) database.DB {
	parent.Helper()
	dsn := testpg.New(parent)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := database.Open(ctx, "postgres", dsn)
	if err != nil {
		parent.Fatalf("open postgres: %v", err)
	}
	parent.Cleanup(func() { admin.Close() }) // before testpg drops the database
	var n atomic.Int64
	return func(t *testing.T) database.DB {
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
		db, err := database.Open(ctx, "postgres", dsn+sep+"search_path="+schema)
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
	EnvMySQLDSN     = "COLLIDE_TEST_MYSQL_DSN"
	DefaultMySQLDSN = "collide:collide@tcp(127.0.0.1:3306)/collide"
	EnvRedisURL     = "COLLIDE_TEST_REDIS_URL"
	DefaultRedisURL = "redis://127.0.0.1:6379/0"
)

func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Unreachable skips t, or fails it under CI.
func Unreachable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unreachable under CI: %v", what, err)
	}
	t.Skipf("skipping: %s unreachable (run .ci/services-mariadb-redis.sh): %v", what, err)
}

// MySQL checks that the MySQL server answers and returns an opener
// that creates a private database for each test and drops it afterwards.
func MySQL(parent *testing.T) func(t *testing.T) database.DB {
	parent.Helper()
	newDSN := MySQLDatabases(parent)
	return func(t *testing.T) database.DB {
		t.Helper()
		dsn := newDSN(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db, err := database.Open(ctx, "mysql", dsn)
		if err != nil {
			t.Fatalf("open mysql: %v", err)
		}
		t.Cleanup(func() { db.Close() }) // runs before the drop
		return db
	}
}

// MySQLDatabases checks that the MySQL server answers and returns a
// function that creates a private database for a test, drops it when the
// test ends, and returns its DSN (user:pass@tcp(host:port)/name).
func MySQLDatabases(parent *testing.T) func(t *testing.T) string {
	parent.Helper()
	adminDSN := EnvOr(EnvMySQLDSN, DefaultMySQLDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := database.Open(ctx, "mysql", adminDSN)
	if err != nil {
		Unreachable(parent, "MySQL at "+database.Redact("mysql", adminDSN), err)
	}
	parent.Cleanup(func() { admin.Close() })
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		parent.Fatalf("%s: %v", EnvMySQLDSN, err)
	}
	return func(t *testing.T) string {
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
		return c.FormatDSN()
	}
}

// Redis checks that the Redis server answers and returns an opener
// that gives each test a database of its own (see RedisDatabases).
func Redis(parent *testing.T) func(t *testing.T) database.DB {
	parent.Helper()
	newURL := RedisDatabases(parent)
	return func(t *testing.T) database.DB {
		t.Helper()
		url := newURL(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db, err := database.Open(ctx, "redis", url)
		if err != nil {
			t.Fatalf("open redis: %v", err)
		}
		t.Cleanup(func() { db.Close() }) // runs before the release
		return db
	}
}

// RedisDatabases checks that the Redis server answers and returns a
// function that gives a test a database number of its own and returns its
// URL: numbers 1… are claimed with SET collide:test:db:N token NX PX in
// database 0 (so test processes running at once share the server safely),
// flushed, and flushed and released after the test. A test waits while
// every number is taken.
func RedisDatabases(parent *testing.T) func(t *testing.T) string {
	parent.Helper()
	url := EnvOr(EnvRedisURL, DefaultRedisURL)
	opt, err := redis.ParseURL(url)
	if err != nil {
		parent.Fatalf("%s: %v", EnvRedisURL, err)
	}
	opt.DB = 0
	ctl := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ctl.Ping(ctx).Err(); err != nil {
		ctl.Close()
		Unreachable(parent, "Redis at "+database.Redact("redis", url), err)
	}
	parent.Cleanup(func() { ctl.Close() })
	dbs := 16
	if kv, err := ctl.ConfigGet(ctx, "databases").Result(); err == nil {
		if n, err := strconv.Atoi(kv["databases"]); err == nil && n > 1 {
			dbs = n
		}
	}
	return func(t *testing.T) string {
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
		c := redis.NewClient(&o)
		err := c.FlushDB(ctx).Err()
		c.Close()
		if err != nil {
			t.Fatalf("flush redis database %d: %v", n, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := redis.NewClient(&o)
			c.FlushDB(ctx)
			c.Close()
			ctl.Eval(ctx, `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`, []string{key}, token)
		})
		return RedisURLWithDB(url, n)
	}
}

// RedisURLWithDB replaces the database number of a redis:// URL.
func RedisURLWithDB(url string, n int) string {
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
