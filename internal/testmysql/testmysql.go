// Package testmysql gives tests a fresh, private MariaDB (or MySQL) database
// on the server named by COLLIDE_TEST_MYSQL_DSN (started by
// .ci/services-mariadb-redis.sh), so tests running in parallel never share
// tables. Outside CI an unreachable server skips the test with the reason;
// under CI (CI=true) it fails it.
package testmysql

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvDSN is the environment variable naming the admin DSN of the test
// server, in go-sql-driver/mysql's form.
const EnvDSN = "COLLIDE_TEST_MYSQL_DSN"

// DefaultDSN is used when EnvDSN is unset: the server
// .ci/services-mariadb-redis.sh prepares.
const DefaultDSN = "collide:collide@tcp(127.0.0.1:3306)/collide"

// New creates a database named collide_test_<random>, returns its DSN (the
// admin DSN with that database) and drops it when the test ends.
func New(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvDSN)
	if admin == "" {
		admin = DefaultDSN
	}
	cfg, err := mysql.ParseDSN(admin)
	if err != nil {
		t.Fatalf("testmysql: %s: %v", EnvDSN, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var db *sql.DB
	connector, err := mysql.NewConnector(cfg)
	if err == nil {
		db = sql.OpenDB(connector)
	}
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("testmysql: MariaDB at %s unreachable under CI: %v", cfg.Addr, err)
		}
		t.Skipf("testmysql: skipping, MariaDB at %s unreachable (run .ci/services-mariadb-redis.sh): %v", cfg.Addr, err)
	}
	name := fmt.Sprintf("collide_test_%d_%d", time.Now().UnixNano()%1e9, rand.IntN(1e6))
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		t.Fatalf("testmysql: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Logf("testmysql: drop %s: %v", name, err)
		}
		db.Close()
	})
	c := cfg.Clone()
	c.DBName = name
	return c.FormatDSN()
}
