package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
)

// defaultMySQL is the local MariaDB test server
// (.ci/services-mariadb-redis.sh prepares it).
const defaultMySQL = "collide:collide@tcp(127.0.0.1:3306)/collide"

// privateMySQLDatabase creates a database of its own on the MariaDB (or
// MySQL) server of admin (go-sql-driver's DSN form; default
// $COLLIDE_TEST_MYSQL_DSN, else defaultMySQL) and returns its DSN and a
// function that drops it.
func privateMySQLDatabase(ctx context.Context, admin string) (string, func(), error) {
	if admin == "" {
		admin = os.Getenv("COLLIDE_TEST_MYSQL_DSN")
	}
	if admin == "" {
		admin = defaultMySQL
	}
	cfg, err := mysql.ParseDSN(admin)
	if err != nil {
		return "", nil, fmt.Errorf("-dsn: %w", err)
	}
	var db *sql.DB
	connector, err := mysql.NewConnector(cfg)
	if err == nil {
		db = sql.OpenDB(connector)
	}
	if err != nil {
		return "", nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	name := fmt.Sprintf("collide_detect_%d_%d", os.Getpid(), rand.IntN(1e6))
	if _, err := db.ExecContext(cctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create database on %s: %w", cfg.Addr, err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := db.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			fmt.Fprintf(os.Stderr, "detect: drop database %s: %v\n", name, err)
		}
		db.Close()
	}
	c := cfg.Clone()
	c.DBName = name
	return c.FormatDSN(), drop, nil
}
