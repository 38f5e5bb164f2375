// Package testpg gives tests a fresh, private PostgreSQL database on the
// server named by COLLIDE_TEST_PG_DSN (set by .ci/run), so test packages that
// run in parallel never share tables. Outside CI a missing server skips the
// test with the reason; under CI (CI=true) it fails it.
package testpg

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvDSN is the environment variable naming the admin DSN of the test server.
const EnvDSN = "COLLIDE_TEST_PG_DSN"

// DefaultDSN is used when EnvDSN is unset: the cluster .ci/run starts.
const DefaultDSN = "postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable"

// New creates a database named collide_test_<random>, returns its DSN and
// drops it when the test ends.
func New(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvDSN)
	if admin == "" {
		admin = DefaultDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("testpg: PostgreSQL at %s unreachable under CI: %v", redact(admin), err)
		}
		t.Skipf("testpg: skipping, PostgreSQL at %s unreachable (run .ci/pg-start.sh): %v", redact(admin), err)
	}
	name := fmt.Sprintf("collide_test_%d_%d", time.Now().UnixNano()%1e9, rand.IntN(1e6))
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		t.Fatalf("testpg: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testpg: drop %s: %v", name, err)
		}
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("testpg: parse %s: %v", EnvDSN, err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable DSN)"
	}
	return u.Redacted()
}
