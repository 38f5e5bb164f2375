package invariants

import (
	"context"
	"database/sql"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

func init() { RegisterDriver("sqlite", openSQLite) }

// openSQLite opens a SQLite database file with modernc.org/sqlite. dsn is a
// file path or a file: URI; busy_timeout(10000) and WAL journaling are added
// unless the DSN sets them.
func openSQLite(ctx context.Context, dsn string) (DB, error) {
	return openSQL(ctx, "sqlite", "sqlite", dsn, sqliteConnString(dsn), func(db *sql.DB) {
		if strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") {
			// Every connection would get its own empty database.
			db.SetMaxOpenConns(1)
		}
	}, sqliteNormalizer)
}

// sqliteConnString adds the pragmas collide needs to dsn.
func sqliteConnString(dsn string) string {
	_, query, _ := strings.Cut(dsn, "?")
	var add []string
	if !strings.Contains(query, "busy_timeout") {
		add = append(add, "_pragma=busy_timeout(10000)")
	}
	readOnly := strings.Contains(query, "mode=ro")
	memory := strings.Contains(dsn, ":memory:") || strings.Contains(query, "mode=memory")
	if !strings.Contains(query, "journal_mode") && !readOnly && !memory {
		add = append(add, "_pragma=journal_mode(WAL)")
	}
	if len(add) == 0 {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
		if strings.HasSuffix(dsn, "?") || strings.HasSuffix(dsn, "&") {
			sep = ""
		}
	}
	return dsn + sep + strings.Join(add, "&")
}

// sqliteNormalizer turns columns declared BOOLEAN/BOOL into bool; the driver
// already gives int64, float64, string, time.Time (for DATE, DATETIME and
// TIMESTAMP columns) and []byte.
func sqliteNormalizer(dbType string) func(any) any {
	if dbType == "BOOLEAN" || dbType == "BOOL" {
		return func(v any) any {
			if i, ok := v.(int64); ok && (i == 0 || i == 1) {
				return i == 1
			}
			return normalize(v)
		}
	}
	return nil
}
