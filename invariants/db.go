package invariants

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/collide-dev/collide/profiles"
)

// Rows is a fully read query result. Values are normalized to int64,
// float64, string, bool, time.Time or nil; []byte becomes string.
type Rows struct {
	Columns []string
	Values  [][]any
}

// DB is a database under test, as checkers see it.
//
// args are bind parameters, sent apart from the statement's text and
// written in it in the driver's own syntax: $1, $2 … for postgres, ? for
// sqlite and mysql, and for redis $1, $2 … anywhere in a word, replaced
// after the command is split into words. BindVars translates a profile's
// {{name}} placeholders into these.
type DB interface {
	// Driver is the registered driver name, e.g. "postgres" or "sqlite".
	Driver() string
	// Exec runs one statement (not a script of several).
	Exec(ctx context.Context, sql string, args ...any) error
	// Query runs one statement and reads every row.
	Query(ctx context.Context, sql string, args ...any) (*Rows, error)
	// Each runs one statement and calls fn for every row as it streams in,
	// stopping at the first error fn returns (that error is returned as is).
	// The row slice is reused between calls: fn must copy what it keeps.
	// It returns the column names.
	Each(ctx context.Context, sql string, fn func(row []any) error, args ...any) ([]string, error)
	// Close closes the connection pool. Calls after Close fail.
	Close() error
}

// Opener connects to a database and pings it.
type Opener func(ctx context.Context, dsn string) (DB, error)

var (
	drvMu   sync.RWMutex
	openers = map[string]Opener{}
)

// RegisterDriver makes a database adapter available to Open under name. It
// panics if name is empty, o is nil or name is taken.
func RegisterDriver(name string, o Opener) {
	drvMu.Lock()
	defer drvMu.Unlock()
	if name == "" || o == nil {
		panic("invariants: RegisterDriver needs a name and an opener")
	}
	if _, dup := openers[name]; dup {
		panic("invariants: driver " + name + " registered twice")
	}
	openers[name] = o
}

// Drivers returns the registered driver names, sorted.
func Drivers() []string {
	drvMu.RLock()
	defer drvMu.RUnlock()
	names := make([]string, 0, len(openers))
	for n := range openers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// defaultOpenTimeout bounds Open when ctx has no deadline.
const defaultOpenTimeout = 15 * time.Second

// Open connects to the database named by driver and dsn and pings it. An
// unknown driver is an error listing the known ones; an unreachable database
// is an error that wraps the cause and shows the DSN with its password
// redacted.
func Open(ctx context.Context, driver, dsn string) (DB, error) {
	drvMu.RLock()
	o := openers[driver]
	drvMu.RUnlock()
	if o == nil {
		return nil, fmt.Errorf("invariants: unknown database driver %q (known: %s)", driver, strings.Join(Drivers(), ", "))
	}
	if strings.TrimSpace(dsn) == "" {
		return nil, fmt.Errorf("invariants: %s: empty DSN", driver)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultOpenTimeout)
		defer cancel()
	}
	return o(ctx, dsn)
}

// sqlDB is a DB over database/sql, shared by the adapters.
type sqlDB struct {
	name string
	db   *sql.DB
	// normalizer returns the function that normalizes values of a column of
	// the given database type name (upper case), or nil for the default.
	normalizer func(dbType string) func(any) any
}

// openSQL opens a database/sql pool and pings it. dsn is the user's DSN, for
// messages; connStr is what the driver gets.
func openSQL(ctx context.Context, name, sqlDriver, dsn, connStr string, setup func(*sql.DB), norm func(string) func(any) any) (*sqlDB, error) {
	db, err := sql.Open(sqlDriver, connStr)
	if err != nil {
		return nil, connectError(name, dsn, err)
	}
	if setup != nil {
		setup(db)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, connectError(name, dsn, err)
	}
	return &sqlDB{name: name, db: db, normalizer: norm}, nil
}

func (d *sqlDB) Driver() string { return d.name }

func (d *sqlDB) Close() error { return d.db.Close() }

func (d *sqlDB) Exec(ctx context.Context, q string, args ...any) error {
	if _, err := d.db.ExecContext(ctx, q, args...); err != nil {
		return d.stmtError(q, err)
	}
	return nil
}

func (d *sqlDB) Query(ctx context.Context, q string, args ...any) (*Rows, error) {
	res := &Rows{}
	cols, err := d.Each(ctx, q, func(row []any) error {
		res.Values = append(res.Values, append([]any(nil), row...))
		return nil
	}, args...)
	if err != nil {
		return nil, err
	}
	res.Columns = cols
	return res, nil
}

func (d *sqlDB) Each(ctx context.Context, q string, fn func(row []any) error, args ...any) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, d.stmtError(q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, d.stmtError(q, err)
	}
	norms := make([]func(any) any, len(cols))
	if types, err := rows.ColumnTypes(); err == nil && d.normalizer != nil {
		for i, t := range types {
			norms[i] = d.normalizer(strings.ToUpper(t.DatabaseTypeName()))
		}
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	row := make([]any, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return cols, d.stmtError(q, err)
		}
		for i, v := range raw {
			if norms[i] != nil {
				row[i] = norms[i](v)
			} else {
				row[i] = normalize(v)
			}
		}
		if err := fn(row); err != nil {
			return cols, err
		}
	}
	if err := rows.Err(); err != nil {
		return cols, d.stmtError(q, err)
	}
	if err := rows.Close(); err != nil {
		return cols, d.stmtError(q, err)
	}
	return cols, nil
}

func (d *sqlDB) stmtError(q string, err error) error {
	return fmt.Errorf("%s: %s: %w", d.name, sqlSnippet(q), err)
}

// sqlSnippet is q on one line, shortened for messages.
func sqlSnippet(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	const max = 80
	if r := []rune(q); len(r) > max {
		q = string(r[:max-1]) + "…"
	}
	return strconv.Quote(q)
}

// normalize maps a database/sql value to int64, float64, string, bool,
// time.Time or nil.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, int64, float64, string, bool, time.Time:
		return x
	case []byte:
		return string(x)
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// connectError is the error of a failed Open: it names the driver and the
// redacted DSN and wraps the cause, with any password scrubbed from its text.
func connectError(driver, dsn string, cause error) error {
	msg := cause.Error()
	for _, p := range dsnPasswords(dsn) {
		if len(p) >= 3 {
			msg = strings.ReplaceAll(msg, p, redacted)
		}
	}
	return &redactedError{
		msg:   fmt.Sprintf("invariants: %s: cannot connect to %s: %s", driver, RedactDSN(dsn), msg),
		cause: cause,
	}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// redacted replaces passwords: the one placeholder of every secret.
const redacted = profiles.Redacted

var (
	kvPassword    = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*)`)
	mysqlUserinfo = regexp.MustCompile(`^([^:/@?]+):(.*)@(tcp\(|unix\(|/)`)
)

// RedactDSN hides the password of a DSN: PostgreSQL URLs
// (postgres://user:pass@host/db?password=…), key=value DSNs
// (host=… password=…) and user:pass@tcp(…) DSNs. Anything else, such as a
// SQLite path or file: URI, is returned unchanged.
func RedactDSN(dsn string) string {
	if strings.HasPrefix(dsn, "file:") || !strings.ContainsAny(dsn, ":=") {
		return dsn
	}
	if i := strings.Index(dsn, "://"); i > 0 && !strings.ContainsAny(dsn[:i], " =") {
		u, err := url.Parse(dsn)
		if err != nil {
			// Unparseable: hide everything between :// and the last @.
			if at := strings.LastIndex(dsn, "@"); at > i {
				return dsn[:i+3] + redacted + dsn[at:]
			}
			return dsn
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
		if u.RawQuery != "" {
			q := u.Query()
			changed := false
			for k := range q {
				if strings.EqualFold(k, "password") {
					q.Set(k, redacted)
					changed = true
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
		return u.String()
	}
	if m := mysqlUserinfo.FindStringSubmatchIndex(dsn); m != nil {
		return dsn[:m[3]] + ":" + redacted + dsn[m[5]:]
	}
	return kvPassword.ReplaceAllString(dsn, "${1}"+redacted)
}

// dsnPasswords returns the passwords written in dsn, to scrub them from
// driver errors.
func dsnPasswords(dsn string) []string {
	var ps []string
	if i := strings.Index(dsn, "://"); i > 0 {
		if u, err := url.Parse(dsn); err == nil {
			if p, ok := u.User.Password(); ok {
				ps = append(ps, p)
			}
			for k, vs := range u.Query() {
				if strings.EqualFold(k, "password") {
					ps = append(ps, vs...)
				}
			}
		}
	}
	if m := mysqlUserinfo.FindStringSubmatch(dsn); m != nil {
		ps = append(ps, m[2])
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		ps = append(ps, unquoteKV(m[2]))
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

// unquoteKV undoes libpq key=value quoting: 'a b\'c' is a b'c.
func unquoteKV(s string) string {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return s
	}
	var b strings.Builder
	in := s[1 : len(s)-1]
	for i := 0; i < len(in); i++ {
		if in[i] == '\\' && i+1 < len(in) {
			i++
		}
		b.WriteByte(in[i])
	}
	return b.String()
}
