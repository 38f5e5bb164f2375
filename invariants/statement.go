package invariants

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// StatementChecker is implemented by databases that can check a statement
// without running it: PostgreSQL and MySQL prepare it on the server,
// SQLite compiles it, Redis looks the command name up with COMMAND INFO.
type StatementChecker interface {
	// CheckStatement returns a *StatementError when the database rejects
	// q (syntax, a missing table or column, an unknown command), and
	// another error when it could not be asked (connection lost).
	CheckStatement(ctx context.Context, q string) error
}

// StatementError is a statement the database rejected: bad input in the
// profile, not a failure of the environment.
type StatementError struct {
	Err error
}

func (e *StatementError) Error() string { return e.Err.Error() }
func (e *StatementError) Unwrap() error { return e.Err }

// CheckStatement checks q against db without running it (see
// StatementChecker). checked is false when db cannot check statements.
func CheckStatement(ctx context.Context, db DB, q string) (checked bool, err error) {
	sc, ok := db.(StatementChecker)
	if !ok {
		return false, nil
	}
	return true, sc.CheckStatement(ctx, q)
}

// CheckStatement prepares q and closes the prepared statement: the server
// parses it and resolves its tables and columns, and nothing runs.
func (d *sqlDB) CheckStatement(ctx context.Context, q string) error {
	stmt, err := d.db.PrepareContext(ctx, q)
	if err != nil {
		if rejected(err) {
			return &StatementError{Err: fmt.Errorf("%s rejects %s: %w", d.name, sqlSnippet(q), err)}
		}
		return d.stmtError(q, err)
	}
	return stmt.Close()
}

// rejected reports whether err is the database's answer about a statement
// (a server or engine error) rather than a failure to reach it.
func rejected(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is a connection exception, 53 insufficient resources,
		// 57 operator intervention (shutdown), 58 system error.
		switch pgErr.Code[:2] {
		case "08", "53", "57", "58":
			return false
		}
		return true
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return true
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		// SQLITE_ERROR (1) is "SQL error or missing database": a syntax
		// error, no such table, no such column. BUSY, LOCKED, IOERR … are
		// not the statement's fault.
		return liteErr.Code()&0xff == 1
	}
	return false
}

// CheckStatement splits cmd into words and asks the server whether it
// knows the command (COMMAND INFO); nothing runs.
func (d *redisDB) CheckStatement(ctx context.Context, cmd string) error {
	args, err := redisArgs(cmd)
	if err != nil {
		return &StatementError{Err: d.cmdError(cmd, err)}
	}
	if len(args) == 0 {
		return &StatementError{Err: d.cmdError(cmd, fmt.Errorf("empty command"))}
	}
	name := strings.ToLower(args[0].(string))
	reply, err := d.c.Do(ctx, "COMMAND", "INFO", name).Slice()
	if err != nil {
		return d.cmdError(cmd, err)
	}
	if len(reply) == 0 || reply[0] == nil {
		return &StatementError{Err: d.cmdError(cmd, fmt.Errorf("unknown command %s", strings.ToUpper(name)))}
	}
	return nil
}

// CheckStatement binds the run's variables into q, as Query would, and
// checks the result on the underlying database.
func (b *boundDB) CheckStatement(ctx context.Context, q string) error {
	q, _, err := b.bind(q, nil)
	if err != nil {
		return &StatementError{Err: err}
	}
	sc, ok := b.DB.(StatementChecker)
	if !ok {
		return nil
	}
	return sc.CheckStatement(ctx, q)
}

// ColumnReader is implemented by checkers that read columns of their query
// by name (expect: value, before.value, $env["count(*)"]), so that a column
// the query does not return stops the run before any load.
type ColumnReader interface {
	// ColumnsRead returns the column names read, sorted, without repeats.
	ColumnsRead() []string
}

// ColumnsRead returns the query columns the expression reads (ColumnReader).
func (c *expectChecker) ColumnsRead() []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]string{c.refs.free, c.refs.beforeKeys} {
		for _, name := range list {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ResultColumns returns the column names q's result has, reading no row:
// a SQL query is run as SELECT * FROM (q) AS t WHERE 1 = 0, which plans q
// but returns (and, for a query, computes) nothing. ok is false when that
// cannot tell: Redis, or a statement that is not a plain query (it cannot
// be a subquery: an UPDATE … RETURNING, a trailing comment).
func ResultColumns(ctx context.Context, db DB, q string) (cols []string, ok bool) {
	switch d := db.(type) {
	case *boundDB:
		q, args, err := d.bind(q, nil)
		if err != nil {
			return nil, false
		}
		if inner, isSQL := d.DB.(*sqlDB); isSQL {
			return inner.resultColumns(ctx, q, args)
		}
	case *sqlDB:
		return d.resultColumns(ctx, q, nil)
	}
	return nil, false
}

func (d *sqlDB) resultColumns(ctx context.Context, q string, args []any) ([]string, bool) {
	q = strings.TrimRight(strings.TrimSpace(q), "; \t\n")
	rows, err := d.db.QueryContext(ctx, "SELECT * FROM ("+q+"\n) AS collide_columns WHERE 1 = 0", args...)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || len(cols) == 0 {
		return nil, false
	}
	return cols, true
}
