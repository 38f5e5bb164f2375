package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/collide-dev/collide/database"
)

// Name is the driver's registered name.
const Name = "postgres"

// DefaultPort is the port a DSN without one connects to.
const DefaultPort = 5432

func init() { database.Register(Driver{}) }

// Driver is the PostgreSQL driver.
type Driver struct{}

// Name returns "postgres".
func (Driver) Name() string { return Name }

// DefaultPort returns 5432.
func (Driver) DefaultPort() int { return DefaultPort }

// Features: the demo runs on PostgreSQL, collide can start it in a
// container, and parameters are $1, $2 ….
func (Driver) Features() database.Features {
	return database.Features{Demo: true, Container: true, Syntax: database.Syntax{Numbered: true, SQL: true}, Wire: "postgres", Rank: 1}
}

// Check requires a DSN unless collide starts the database in a container.
func (Driver) Check(s database.Setting) []database.Problem {
	if s.DSN == "" && !s.Container {
		return []database.Problem{{Field: "database.dsn", Msg: "required for driver postgres (e.g. postgres://user:pass@127.0.0.1:5432/db or ${COLLIDE_PG})"}}
	}
	return nil
}

// Open connects with pgx through database/sql. dsn is a URL
// (postgres://user:pass@host:5432/db?sslmode=disable) or key=value DSN.
func (d Driver) Open(ctx context.Context, dsn string) (database.DB, error) {
	db, err := database.OpenSQL(ctx, database.SQLConfig{
		Name: Name, SQLDriver: "pgx", ConnString: dsn,
		Setup: func(db *sql.DB) {
			db.SetMaxOpenConns(4)
			db.SetMaxIdleConns(2)
			db.SetConnMaxIdleTime(time.Minute)
		},
		Normalizer: normalizer,
		Rejected:   rejected,
	})
	if err != nil {
		return nil, database.ConnectError(d, dsn, err, passwords(dsn)...)
	}
	return db, nil
}

// normalizer handles the types pgx's stdlib returns as text.
func normalizer(dbType string) func(any) any {
	if dbType == "NUMERIC" {
		return database.NormalizeNumeric
	}
	return nil
}

// rejected reports whether err is the server's answer about a statement
// rather than a failure to reach it.
func rejected(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	// Class 08 is a connection exception, 53 insufficient resources,
	// 57 operator intervention (shutdown), 58 system error.
	switch pgErr.Code[:2] {
	case "08", "53", "57", "58":
		return false
	}
	return true
}
