package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// defaultPG is the local test server (.ci/run starts it).
const defaultPG = "postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable"

// privateDatabase creates a database of its own on the server of admin
// (default $COLLIDE_TEST_PG_DSN, else defaultPG) and returns its DSN and a
// function that drops it.
func privateDatabase(ctx context.Context, admin string) (string, func(), error) {
	if admin == "" {
		admin = os.Getenv("COLLIDE_TEST_PG_DSN")
	}
	if admin == "" {
		admin = defaultPG
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("-dsn: %w", err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	name := fmt.Sprintf("collide_detect_%d_%d", os.Getpid(), rand.IntN(1e6))
	if _, err := db.ExecContext(cctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create database on %s: %w", u.Redacted(), err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := db.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "detect: drop database %s: %v\n", name, err)
		}
		db.Close()
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
