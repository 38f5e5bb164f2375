package invariants

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/collide-dev/collide/database"
)

// BindVars returns db with the run's variables (captured by setup) bound:
// every {{name}} of a statement whose name is in vars becomes a bind
// parameter of the driver, with the variable's value as its argument (see
// Bind). Statements without such placeholders, and calls that pass their own
// args, go through unchanged. Checkers, setup and teardown SQL all run
// through it, so a value is never spliced into SQL text.
func BindVars(db database.DB, vars map[string]string) database.DB {
	if db == nil {
		return nil
	}
	return &boundDB{DB: db, vars: vars, syntax: SyntaxOf(db.Driver())}
}

// SyntaxOf is the bind syntax of the named driver; an unknown driver gets
// SQL with ? parameters.
func SyntaxOf(driver string) database.Syntax {
	if d, err := database.Lookup(driver); err == nil {
		return d.Features().Syntax
	}
	return database.Syntax{SQL: true}
}

type boundDB struct {
	database.DB
	vars   map[string]string
	syntax database.Syntax
}

func (b *boundDB) bind(q string, args []any) (string, []any, error) {
	if len(args) > 0 || len(b.vars) == 0 || !strings.Contains(q, "{{") {
		return q, args, nil
	}
	return Bind(b.syntax, q, b.vars)
}

func (b *boundDB) Exec(ctx context.Context, q string, args ...any) error {
	q, args, err := b.bind(q, args)
	if err != nil {
		return err
	}
	return b.DB.Exec(ctx, q, args...)
}

func (b *boundDB) Query(ctx context.Context, q string, args ...any) (*database.Rows, error) {
	q, args, err := b.bind(q, args)
	if err != nil {
		return nil, err
	}
	return b.DB.Query(ctx, q, args...)
}

func (b *boundDB) Each(ctx context.Context, q string, fn func(row []any) error, args ...any) ([]string, error) {
	q, args, err := b.bind(q, args)
	if err != nil {
		return nil, err
	}
	return b.DB.Each(ctx, q, fn, args...)
}

// Bind translates the {{name}} placeholders of q whose name is in vars into
// bind parameters of the given syntax (a driver's Features().Syntax, see
// SyntaxOf): $1, $2 … when numbered (a name used twice reuses its number;
// postgres, and redis, where they are replaced within a word after the
// command is split), ? otherwise (a name used twice is passed twice). It returns the statement and its arguments, the values as
// text. A placeholder stands for a whole value: in SQL, one inside a quoted
// string ('{{name}}') is an error — write 'prefix-' || {{name}} instead.
// {{…}} that is not a variable of vars (such as '{{1,2}}' array literals)
// is left alone.
func Bind(syntax database.Syntax, q string, vars map[string]string) (string, []any, error) {
	numbered, sql := syntax.Numbered, syntax.SQL
	var b strings.Builder
	var args []any
	index := map[string]int{}
	inQuote := false
	for i := 0; i < len(q); {
		if sql && q[i] == '\'' {
			inQuote = !inQuote
			b.WriteByte(q[i])
			i++
			continue
		}
		if !strings.HasPrefix(q[i:], "{{") {
			b.WriteByte(q[i])
			i++
			continue
		}
		end := strings.Index(q[i+2:], "}}")
		if end < 0 {
			b.WriteString(q[i:])
			break
		}
		name := strings.TrimSpace(q[i+2 : i+2+end])
		val, ok := vars[name]
		if !ok {
			b.WriteString(q[i : i+2+end+2])
			i += 2 + end + 2
			continue
		}
		if inQuote {
			return "", nil, fmt.Errorf("{{%s}} is inside a quoted string: a variable is a bind parameter that stands for a whole value, so write it bare (e.g. = {{%s}}, or 'prefix-' || {{%s}})", name, name, name)
		}
		if numbered {
			n, seen := index[name]
			if !seen {
				args = append(args, val)
				n = len(args)
				index[name] = n
			}
			b.WriteString("$" + strconv.Itoa(n))
		} else {
			args = append(args, val)
			b.WriteByte('?')
		}
		i += 2 + end + 2
	}
	return b.String(), args, nil
}
