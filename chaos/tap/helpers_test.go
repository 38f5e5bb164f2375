package tap_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/internal/testpg"
)

// startTap starts a tap in front of upstream and stops it when the test ends,
// checking that no client connection is left open.
func startTap(t testing.TB, cfg tap.Config) *tap.Tap {
	t.Helper()
	tp, err := tap.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start tap: %v", err)
	}
	t.Cleanup(func() {
		if err := tp.Close(); err != nil {
			t.Errorf("close tap: %v", err)
		}
		if n := tp.Active(); n != 0 {
			t.Errorf("after Close: %d connections still open", n)
		}
	})
	return tp
}

// pgDB returns a fresh database's DSN and its host:port.
func pgDB(t testing.TB) (dsn, hostport string) {
	t.Helper()
	dsn = testpg.New(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse DSN: %v", err)
	}
	return dsn, u.Host
}

// viaTap rewrites a PostgreSQL URL DSN to connect through addr, with sslmode
// (optionally followed by "&key=value" for one more setting).
func viaTap(t testing.TB, dsn, addr, sslmode string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse DSN: %v", err)
	}
	u.Host = addr
	q := u.Query()
	mode, extra, _ := strings.Cut(sslmode, "&") // "require&sslnegotiation=direct"
	q.Set("sslmode", mode)
	if k, v, ok := strings.Cut(extra, "="); ok {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// mysqlDB creates a private MariaDB/MySQL database and returns its config;
// it skips the test with the reason when the server is unreachable.
func mysqlDB(t testing.TB) *mysql.Config {
	t.Helper()
	adminDSN := os.Getenv("COLLIDE_TEST_MYSQL_DSN")
	if adminDSN == "" {
		adminDSN = "collide:collide@tcp(127.0.0.1:3306)/collide"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("mysql", adminDSN)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("MySQL unreachable under CI: %v", err)
		}
		t.Skipf("skipping: MySQL at 127.0.0.1:3306 unreachable (run .ci/services-mariadb-redis.sh): %v", err)
	}
	name := fmt.Sprintf("collide_tap_%d_%d", time.Now().UnixNano()%1e9, rand.IntN(1e6))
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
		admin.Close()
	})
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		t.Fatalf("parse MySQL DSN: %v", err)
	}
	cfg.DBName = name
	return cfg
}

// eventually polls cond every 10ms for up to wait.
func eventually(t testing.TB, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", wait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func eventsOf(tp *tap.Tap, kind tap.EventKind) []tap.Event {
	var out []tap.Event
	for _, e := range tp.Events() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}
