package invariants

import (
	"context"
	"sort"

	"github.com/collide-dev/collide/database"
)

// CheckStatement checks q against db without running it (see
// database.StatementChecker): a rejected statement is a
// *database.StatementError. checked is false when db cannot check statements.
func CheckStatement(ctx context.Context, db database.DB, q string) (checked bool, err error) {
	sc, ok := db.(database.StatementChecker)
	if !ok {
		return false, nil
	}
	return true, sc.CheckStatement(ctx, q)
}

// CheckStatement binds the run's variables into q, as Query would, and
// checks the result on the underlying database.
func (b *boundDB) CheckStatement(ctx context.Context, q string) error {
	q, _, err := b.bind(q, nil)
	if err != nil {
		return &database.StatementError{Err: err}
	}
	sc, ok := b.DB.(database.StatementChecker)
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
func ResultColumns(ctx context.Context, db database.DB, q string) (cols []string, ok bool) {
	var args []any
	if b, bound := db.(*boundDB); bound {
		var err error
		if q, args, err = b.bind(q, nil); err != nil {
			return nil, false
		}
		db = b.DB
	}
	if cl, can := db.(database.ColumnLister); can {
		return cl.ResultColumns(ctx, q, args...)
	}
	return nil, false
}
