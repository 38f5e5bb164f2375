package invariants

import (
	"context"
	"database/sql"
	"math"
	"strconv"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

func init() { RegisterDriver("postgres", openPostgres) }

// openPostgres connects with pgx through database/sql. dsn is a URL
// (postgres://user:pass@host:5432/db?sslmode=disable) or key=value DSN.
func openPostgres(ctx context.Context, dsn string) (DB, error) {
	return openSQL(ctx, "postgres", "pgx", dsn, dsn, func(db *sql.DB) {
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(2)
		db.SetConnMaxIdleTime(time.Minute)
	}, postgresNormalizer)
}

// postgresNormalizer handles the types pgx's stdlib returns as text.
func postgresNormalizer(dbType string) func(any) any {
	if dbType == "NUMERIC" {
		return normalizeNumeric
	}
	return nil
}

// normalizeNumeric turns a NUMERIC's text into int64 when it is integral and
// fits, float64 otherwise.
func normalizeNumeric(v any) any {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return normalize(v)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		// "812.000" is integral.
		return int64(f)
	}
	return f
}
