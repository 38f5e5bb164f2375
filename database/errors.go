package database

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/collide-dev/collide/redact"
)

// ConnectError is the error of a failed Open: it names the driver and the
// DSN as the driver redacts it, and wraps cause with the DSN's passwords
// (secrets) scrubbed from its text.
func ConnectError(d Driver, dsn string, cause error, secrets ...string) error {
	return &connectError{
		msg:   fmt.Sprintf("database: %s: cannot connect to %s: %s", d.Name(), d.Redact(dsn), redact.Scrub(cause.Error(), secrets...)),
		cause: cause,
	}
}

type connectError struct {
	msg   string
	cause error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.cause }

// StatementChecker is implemented by databases that can check a statement
// without running it: PostgreSQL and MySQL prepare it on the server,
// SQLite compiles it, Redis looks the command name up with COMMAND INFO.
type StatementChecker interface {
	// CheckStatement returns a *StatementError when the database rejects
	// q (syntax, a missing table or column, an unknown command), and
	// another error when it could not be asked (connection lost).
	CheckStatement(ctx context.Context, q string) error
}

// ColumnLister is implemented by databases that can tell the columns of a
// query's result without reading a row (SQL).
type ColumnLister interface {
	// ResultColumns returns the column names of q's result; ok is false
	// when it cannot tell.
	ResultColumns(ctx context.Context, q string, args ...any) (cols []string, ok bool)
}

// StatementError is a statement the database rejected: bad input in the
// profile, not a failure of the environment.
type StatementError struct {
	Err error
}

func (e *StatementError) Error() string { return e.Err.Error() }
func (e *StatementError) Unwrap() error { return e.Err }

// Snippet is q on one line, quoted and shortened to 80 characters, for
// messages.
func Snippet(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	const max = 80
	if r := []rune(q); len(r) > max {
		q = string(r[:max-1]) + "…"
	}
	return strconv.Quote(q)
}
