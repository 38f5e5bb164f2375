package invariants

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql" // registers the "mysql" database/sql driver
)

func init() { RegisterDriver("mysql", openMySQL) }

// openMySQL connects to MySQL or MariaDB with github.com/go-sql-driver/mysql.
// dsn is the driver's form, user:pass@tcp(127.0.0.1:3306)/db?param=value,
// or a URL, mysql://user:pass@127.0.0.1:3306/db?param=value. parseTime=true
// (DATE, DATETIME and TIMESTAMP columns become time.Time, in UTC unless loc
// says otherwise) and a 10s dial timeout are added unless the DSN sets them.
func openMySQL(ctx context.Context, dsn string) (DB, error) {
	cfg, err := mysqlConfig(dsn)
	if err != nil {
		return nil, connectError("mysql", dsn, err)
	}
	return openSQL(ctx, "mysql", "mysql", dsn, cfg.FormatDSN(), func(db *sql.DB) {
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(2)
		db.SetConnMaxIdleTime(time.Minute)
	}, mysqlNormalizer)
}

// mysqlConfig parses either DSN form and adds collide's defaults.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	var cfg *mysql.Config
	var rawQuery string
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok && (scheme == "mysql" || scheme == "mariadb") {
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return nil, fmt.Errorf("invalid URL: %v", err)
		}
		host := u.Host
		if host == "" {
			host = "127.0.0.1"
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "3306")
		}
		rawQuery = u.RawQuery
		cfg, err = mysql.ParseDSN("tcp(" + host + ")/" + strings.TrimPrefix(u.Path, "/") + queryPart(rawQuery))
		if err != nil {
			return nil, err
		}
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	} else {
		var err error
		if cfg, err = mysql.ParseDSN(dsn); err != nil {
			return nil, err
		}
		if _, q, found := strings.Cut(dsn, "?"); found {
			rawQuery = q
		}
	}
	if !hasParam(rawQuery, "parseTime") {
		cfg.ParseTime = true
	}
	if !hasParam(rawQuery, "timeout") {
		cfg.Timeout = 10 * time.Second
	}
	return cfg, nil
}

func queryPart(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

func hasParam(rawQuery, name string) bool {
	for _, kv := range strings.Split(rawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return true
		}
	}
	return false
}

// mysqlNormalizer turns the text the driver may return for numeric columns
// into numbers: integers into int64, FLOAT and DOUBLE into float64, DECIMAL
// into int64 when integral and float64 otherwise (like PostgreSQL NUMERIC).
// BOOLEAN is TINYINT(1) in MySQL and reads as 0 or 1. BIT becomes an int64.
func mysqlNormalizer(dbType string) func(any) any {
	switch {
	case dbType == "DECIMAL":
		return normalizeNumeric
	case dbType == "FLOAT" || dbType == "DOUBLE":
		return func(v any) any {
			if b, ok := v.([]byte); ok {
				if f, err := strconv.ParseFloat(string(b), 64); err == nil {
					return f
				}
			}
			return normalize(v)
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
			return normalize(v)
		}
	case strings.HasSuffix(dbType, "INT") || dbType == "YEAR":
		unsigned := strings.HasPrefix(dbType, "UNSIGNED")
		return func(v any) any {
			b, ok := v.([]byte)
			if !ok {
				return normalize(v)
			}
			if unsigned {
				if u, err := strconv.ParseUint(string(b), 10, 64); err == nil {
					return normalize(u)
				}
			} else if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				return i
			}
			return string(b)
		}
	}
	return nil
}
