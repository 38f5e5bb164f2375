package database

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// SQLConfig says how OpenSQL opens a database/sql pool for a driver.
type SQLConfig struct {
	// Name is the collide driver name, for Driver() and messages.
	Name string
	// SQLDriver is the database/sql driver name, e.g. "pgx".
	SQLDriver string
	// ConnString is what the database/sql driver gets.
	ConnString string
	// Setup tunes the pool before the ping; nil for none.
	Setup func(*sql.DB)
	// Normalizer returns the function that normalizes values of a column of
	// the given database type name (upper case), or nil for Normalize.
	Normalizer func(dbType string) func(any) any
	// Rejected reports whether an error of preparing a statement is the
	// database's answer about the statement (syntax, a missing table)
	// rather than a failure to reach the database; nil: never.
	Rejected func(error) bool
}

// SQL is a DB over database/sql, shared by the SQL drivers.
type SQL struct {
	cfg SQLConfig
	db  *sql.DB
}

// OpenSQL opens a database/sql pool and pings it. A failure is returned
// as is: the driver wraps it with ConnectError.
func OpenSQL(ctx context.Context, cfg SQLConfig) (*SQL, error) {
	db, err := sql.Open(cfg.SQLDriver, cfg.ConnString)
	if err != nil {
		return nil, err
	}
	if cfg.Setup != nil {
		cfg.Setup(db)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &SQL{cfg: cfg, db: db}, nil
}

// Driver returns the collide driver name.
func (d *SQL) Driver() string { return d.cfg.Name }

// Close closes the pool.
func (d *SQL) Close() error { return d.db.Close() }

// Exec runs one statement.
func (d *SQL) Exec(ctx context.Context, q string, args ...any) error {
	if _, err := d.db.ExecContext(ctx, q, args...); err != nil {
		return d.stmtError(q, err)
	}
	return nil
}

// Query runs one statement and reads every row.
func (d *SQL) Query(ctx context.Context, q string, args ...any) (*Rows, error) {
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

// Each runs one statement and streams its rows to fn (see DB).
func (d *SQL) Each(ctx context.Context, q string, fn func(row []any) error, args ...any) ([]string, error) {
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
	if types, err := rows.ColumnTypes(); err == nil && d.cfg.Normalizer != nil {
		for i, t := range types {
			norms[i] = d.cfg.Normalizer(strings.ToUpper(t.DatabaseTypeName()))
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
				row[i] = Normalize(v)
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

// CheckStatement prepares q and closes the prepared statement: the server
// parses it and resolves its tables and columns, and nothing runs
// (StatementChecker).
func (d *SQL) CheckStatement(ctx context.Context, q string) error {
	stmt, err := d.db.PrepareContext(ctx, q)
	if err != nil {
		if d.cfg.Rejected != nil && d.cfg.Rejected(err) {
			return &StatementError{Err: fmt.Errorf("%s rejects %s: %w", d.cfg.Name, Snippet(q), err)}
		}
		return d.stmtError(q, err)
	}
	return stmt.Close()
}

// ResultColumns returns the column names q's result has, reading no row:
// q is run as SELECT * FROM (q) AS t WHERE 1 = 0, which plans q but returns
// nothing (ColumnLister). ok is false when that cannot tell, e.g. for a
// statement that cannot be a subquery.
func (d *SQL) ResultColumns(ctx context.Context, q string, args ...any) (cols []string, ok bool) {
	q = strings.TrimRight(strings.TrimSpace(q), "; \t\n")
	rows, err := d.db.QueryContext(ctx, "SELECT * FROM ("+q+"\n) AS collide_columns WHERE 1 = 0", args...)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	cols, err = rows.Columns()
	if err != nil || len(cols) == 0 {
		return nil, false
	}
	return cols, true
}

func (d *SQL) stmtError(q string, err error) error {
	return fmt.Errorf("%s: %s: %w", d.cfg.Name, Snippet(q), err)
}
