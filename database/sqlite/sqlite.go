package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/collide-dev/collide/database"
)

// Name is the driver's registered name.
const Name = "sqlite"

func init() { database.Register(Driver{}) }

// Driver is the SQLite driver.
type Driver struct{}

// Name returns "sqlite".
func (Driver) Name() string { return Name }

// DefaultPort is 0: SQLite has no network.
func (Driver) DefaultPort() int { return 0 }

// Features: in-process (a file the service opens), the demo runs on it,
// parameters are ?.
func (Driver) Features() database.Features {
	return database.Features{InProcess: true, Demo: true, Syntax: database.Syntax{SQL: true}, Rank: 2}
}

// Check requires a DSN (the service's database file) when the service is
// a running one at target.url: collide cannot choose its file.
func (Driver) Check(s database.Setting) []database.Problem {
	if s.DSN == "" && s.Target == database.TargetURL {
		return []database.Problem{{Field: "database.dsn", Msg: "required for driver sqlite with a url target (the path of the service's database file)"}}
	}
	return nil
}

// Address returns database.ErrNoNetwork: SQLite runs inside the service.
func (Driver) Address(string) (string, string, error) {
	return "", "", errNoNetwork
}

// Through returns database.ErrNoNetwork: no proxy can stand between a
// service and its SQLite file.
func (Driver) Through(string, string) (string, error) {
	return "", errNoNetwork
}

// errNoNetwork says why there is no address; it is database.ErrNoNetwork.
var errNoNetwork error = noNetwork{}

type noNetwork struct{}

func (noNetwork) Error() string { return "sqlite runs inside the service" }
func (noNetwork) Unwrap() error { return database.ErrNoNetwork }

// Redact returns dsn unchanged: a file path or file: URI holds no
// password.
func (Driver) Redact(dsn string) string { return dsn }

// Open opens a SQLite database file. dsn is a file path or a file: URI;
// busy_timeout(10000) and WAL journaling are added unless the DSN sets
// them.
func (d Driver) Open(ctx context.Context, dsn string) (database.DB, error) {
	db, err := database.OpenSQL(ctx, database.SQLConfig{
		Name: Name, SQLDriver: "sqlite", ConnString: connString(dsn),
		Setup: func(db *sql.DB) {
			if strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") {
				// Every connection would get its own empty database.
				db.SetMaxOpenConns(1)
			}
		},
		Normalizer: normalizer,
		Rejected:   rejected,
	})
	if err != nil {
		return nil, database.ConnectError(d, dsn, err)
	}
	return db, nil
}

// rejected: SQLITE_ERROR (1) is "SQL error or missing database": a syntax
// error, no such table, no such column. BUSY, LOCKED, IOERR … are not the
// statement's fault.
func rejected(err error) bool {
	var liteErr *sqlite.Error
	return errors.As(err, &liteErr) && liteErr.Code()&0xff == 1
}

// connString adds the pragmas collide needs to dsn.
func connString(dsn string) string {
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

// normalizer turns columns declared BOOLEAN/BOOL into bool; the driver
// already gives int64, float64, string, time.Time (for DATE, DATETIME and
// TIMESTAMP columns) and []byte.
func normalizer(dbType string) func(any) any {
	if dbType == "BOOLEAN" || dbType == "BOOL" {
		return func(v any) any {
			if i, ok := v.(int64); ok && (i == 0 || i == 1) {
				return i == 1
			}
			return database.Normalize(v)
		}
	}
	return nil
}
