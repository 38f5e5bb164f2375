package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql" // registers the "mysql" database/sql driver

	"github.com/collide-dev/collide/database"
)

// Name is the driver's registered name.
const Name = "mysql"

// DefaultPort is the port a DSN without one connects to.
const DefaultPort = 3306

func init() { database.Register(Driver{}) }

// Driver is the MySQL/MariaDB driver.
type Driver struct{}

// Name returns "mysql".
func (Driver) Name() string { return Name }

// DefaultPort returns 3306.
func (Driver) DefaultPort() int { return DefaultPort }

// Features: parameters are ?; the demo does not run on MySQL and collide
// starts no MySQL container.
func (Driver) Features() database.Features {
	return database.Features{Demo: true, Syntax: database.Syntax{SQL: true}, Wire: "mysql", Rank: 3}
}

// Check requires a DSN (a container, which this driver cannot have, is
// reported by the caller from Features).
func (Driver) Check(s database.Setting) []database.Problem {
	if s.DSN == "" && !s.Container {
		return []database.Problem{{Field: "database.dsn", Msg: "required for driver mysql (e.g. user:pass@tcp(127.0.0.1:3306)/db or mysql://user:pass@127.0.0.1:3306/db)"}}
	}
	return nil
}

// Open connects to MySQL or MariaDB. parseTime=true (DATE, DATETIME and
// TIMESTAMP columns become time.Time, in UTC unless loc says otherwise)
// and a 10 s dial timeout are added unless the DSN sets them.
func (d Driver) Open(ctx context.Context, dsn string) (database.DB, error) {
	cfg, err := config(dsn)
	if err != nil {
		return nil, database.ConnectError(d, dsn, err, passwords(dsn)...)
	}
	db, err := database.OpenSQL(ctx, database.SQLConfig{
		Name: Name, SQLDriver: "mysql", ConnString: cfg.FormatDSN(),
		Setup: func(db *sql.DB) {
			db.SetMaxOpenConns(4)
			db.SetMaxIdleConns(2)
			db.SetConnMaxIdleTime(time.Minute)
		},
		Normalizer: normalizer,
		Rejected: func(err error) bool {
			var myErr *mysql.MySQLError
			return errors.As(err, &myErr)
		},
	})
	if err != nil {
		return nil, database.ConnectError(d, dsn, err, passwords(dsn)...)
	}
	return db, nil
}

// config parses either DSN form and adds collide's defaults.
func config(dsn string) (*mysql.Config, error) {
	cfg, rawQuery, err := parse(dsn)
	if err != nil {
		return nil, err
	}
	if !hasParam(rawQuery, "parseTime") {
		cfg.ParseTime = true
	}
	if !hasParam(rawQuery, "timeout") {
		cfg.Timeout = 10 * time.Second
	}
	return cfg, nil
}

func hasParam(rawQuery, name string) bool {
	for _, kv := range strings.Split(rawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return true
		}
	}
	return false
}

// normalizer turns the text the driver may return for numeric columns
// into numbers: integers into int64, FLOAT and DOUBLE into float64, DECIMAL
// into int64 when integral and float64 otherwise (like PostgreSQL NUMERIC).
// BOOLEAN is TINYINT(1) in MySQL and reads as 0 or 1. BIT becomes an int64.
func normalizer(dbType string) func(any) any {
	switch {
	case dbType == "DECIMAL":
		return database.NormalizeNumeric
	case dbType == "FLOAT" || dbType == "DOUBLE":
		return func(v any) any {
			if b, ok := v.([]byte); ok {
				if f, err := strconv.ParseFloat(string(b), 64); err == nil {
					return f
				}
			}
			return database.Normalize(v)
		}
	case dbType == "BIT":
		return func(v any) any {
			if b, ok := v.([]byte); ok && len(b) <= 8 {
				var n int64
				for _, c := range b {
					n = n<<8 | int64(c)
				}
				return n
			}
			return database.Normalize(v)
		}
	case strings.HasSuffix(dbType, "INT") || dbType == "YEAR":
		unsigned := strings.HasPrefix(dbType, "UNSIGNED")
		return func(v any) any {
			b, ok := v.([]byte)
			if !ok {
				return database.Normalize(v)
			}
			if unsigned {
				if u, err := strconv.ParseUint(string(b), 10, 64); err == nil {
					return database.Normalize(u)
				}
			} else if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				return i
			}
			return string(b)
		}
	}
	return nil
}
