package invariants

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// expectCheck is the checker's name, written once: the profile's check: value.
const expectCheck = "expect"

func init() {
	Register(Kind[expectFields]{
		Name: expectCheck, About: "query's result and the history tally make an expression true",
		Query: Optional, Shorthand: true, New: newExpect,
	})
}

// expectFields are expect's own fields.
type expectFields struct {
	Expect string `yaml:"expect" jsonschema_description:"An expression that must be true after the run, over query's first row (its columns), before (that row after setup), rows, count and ok(\"op\"), fail, unknown, total; e.g. value <= ok(\"incr\") + unknown(\"incr\"). Setting it without check selects this checker."`
}

// historyFuncs are the expression functions over the history tally.
var historyFuncs = map[string]func(history.Counts) int{
	"ok":      func(c history.Counts) int { return c.OK },
	"fail":    func(c history.Counts) int { return c.Fail },
	"unknown": func(c history.Counts) int { return c.Unknown },
	"total":   func(c history.Counts) int { return c.Total() },
}

// reservedVars are the expression variables that are not query columns. A
// column named count replaces the row count (SELECT count(*) … in
// PostgreSQL); columns with the other names are reachable only through rows.
var reservedVars = map[string]bool{"rows": true, "count": true, "before": true, "$env": true}

// expectChecker is the "expect" checker: Query's result and the history
// tally, bound to variables, must make the Expect expression true.
type expectChecker struct {
	inv    profiles.Invariant
	expect string // the expression
	prog   *vm.Program
	refs   exprRefs

	mu       sync.Mutex
	prepared bool
	before   map[string]any // first row after setup; nil if there was none
	prepErr  error
}

func newExpect(inv profiles.Invariant, f *expectFields) (Checker, error) {
	if strings.TrimSpace(f.Expect) == "" {
		return nil, fmt.Errorf("expect is empty: write an expression that must be true, e.g. value <= ok(\"incr\") + unknown(\"incr\")")
	}
	prog, refs, err := compileExpect(f.Expect, strings.TrimSpace(inv.Query) != "")
	if err != nil {
		return nil, err
	}
	return &expectChecker{inv: inv, expect: f.Expect, prog: prog, refs: refs}, nil
}

// exprRefs is what an expression reads, found by walking its syntax tree.
type exprRefs struct {
	free       []string // names that must be query columns (identifiers, $env["x"])
	usesBefore bool
	beforeKeys []string // X of every before.X
	history    bool     // calls ok(), fail(), unknown() or total()
	// rows: the expression reads rows (or all of $env), so every row must
	// be held; otherwise the rows stream past and only the count, the first
	// row and the evidence rows are kept.
	rows bool
	ops  []string // constant operation names passed to them
	refs []exprRef
}

type refKind int

const (
	refIdent  refKind = iota // value, count, rows, before
	refBefore                // before.value
	refEnv                   // $env["count(*)"]
	refCall                  // ok("incr"), total()
)

// exprRef is one value shown in Result.Actual.
type exprRef struct {
	kind   refKind
	name   string // identifier, column or function
	arg    string // operation name of a call
	hasArg bool
}

func (r exprRef) String() string {
	switch r.kind {
	case refBefore:
		return "before." + r.name
	case refEnv:
		return fmt.Sprintf("$env[%q]", r.name)
	case refCall:
		if r.hasArg {
			return fmt.Sprintf("%s(%q)", r.name, r.arg)
		}
		return r.name + "()"
	}
	return r.name
}

// compileOptions are the expr options for an expect expression. Column
// variables are only known when the query runs, so with a query unknown
// identifiers compile (and are checked against the columns at check time);
// without one every name must be a history function.
func compileOptions(hasQuery bool, freeBuiltins []string) []expr.Option {
	env := map[string]any{}
	for name := range historyFuncs {
		env[name] = func(...string) (int, error) { return 0, nil }
	}
	opts := []expr.Option{expr.DisableBuiltin("count")}
	if hasQuery {
		env["rows"] = []any{}
		env["before"] = map[string]any{}
		opts = append(opts, expr.AllowUndefinedVariables())
	}
	for _, b := range freeBuiltins {
		opts = append(opts, expr.DisableBuiltin(b))
	}
	return append([]expr.Option{expr.Env(env)}, opts...)
}

// compileExpect parses, validates and compiles an expect expression.
func compileExpect(src string, hasQuery bool) (*vm.Program, exprRefs, error) {
	cfg := conf.CreateNew()
	for _, o := range compileOptions(hasQuery, nil) {
		o(cfg)
	}
	for name := range cfg.Disabled {
		delete(cfg.Builtins, name)
	}
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		return nil, exprRefs{}, err
	}
	refs, builtinCalls, err := analyze(tree.Node, hasQuery)
	if err != nil {
		return nil, exprRefs{}, err
	}
	// A bare identifier that names a builtin (max, len, type …) is a column.
	var freeBuiltins []string
	for _, name := range refs.free {
		if _, ok := builtin.Index[name]; !ok {
			continue
		}
		if builtinCalls[name] {
			return nil, exprRefs{}, fmt.Errorf("%s is used both as a column and as the builtin function %s(): rename the column (SELECT … AS other_name)", name, name)
		}
		freeBuiltins = append(freeBuiltins, name)
	}
	prog, err := expr.Compile(src, compileOptions(hasQuery, freeBuiltins)...)
	if err != nil {
		return nil, exprRefs{}, err
	}
	if t := prog.Node().Type(); t != nil && t.Kind() != reflect.Interface && t.Kind() != reflect.Bool {
		return nil, exprRefs{}, fmt.Errorf("the expression gives %s, want a boolean (true when the invariant holds)", t)
	}
	return prog, refs, nil
}

// analyze walks the tree: it rejects unknown functions and misuse of the
// history functions, and collects the names the expression reads.
func analyze(root ast.Node, hasQuery bool) (exprRefs, map[string]bool, error) {
	var refs exprRefs
	callees := map[*ast.IdentifierNode]bool{}
	bases := map[*ast.IdentifierNode]bool{}
	lets := map[string]bool{}
	builtinCalls := map[string]bool{}
	ast.Walk(&root, visitFunc(func(n ast.Node) {
		switch n := n.(type) {
		case *ast.CallNode:
			if id, ok := n.Callee.(*ast.IdentifierNode); ok {
				callees[id] = true
			}
		case *ast.MemberNode:
			if id, ok := n.Node.(*ast.IdentifierNode); ok {
				if _, ok := n.Property.(*ast.StringNode); ok && (id.Value == "before" || id.Value == "$env") {
					bases[id] = true
				}
			}
		case *ast.VariableDeclaratorNode:
			lets[n.Name] = true
		case *ast.BuiltinNode:
			builtinCalls[n.Name] = true
		}
	}))

	var err error
	seen := map[string]bool{}
	free := map[string]bool{}
	add := func(r exprRef) {
		if k := r.String(); !seen[k] {
			seen[k] = true
			refs.refs = append(refs.refs, r)
		}
	}
	needQuery := func(name string) {
		if !hasQuery && err == nil {
			err = fmt.Errorf("%s needs a query: without one only ok(), fail(), unknown() and total() are available", name)
		}
	}
	ast.Walk(&root, visitFunc(func(n ast.Node) {
		if err != nil {
			return
		}
		switch n := n.(type) {
		case *ast.IdentifierNode:
			name := n.Value
			switch {
			case name == "$env" && !bases[n]:
				refs.rows = true // all of $env, rows included
			case callees[n], bases[n], lets[name], name == "$env":
			case historyFuncs[name] != nil:
				err = fmt.Errorf("%s is a function: write %s(\"operation\") or %s()", name, name, name)
			case name == "before":
				needQuery(name)
				refs.usesBefore = true
				add(exprRef{kind: refIdent, name: name})
			case reservedVars[name]:
				needQuery(name)
				refs.rows = refs.rows || name == "rows"
				add(exprRef{kind: refIdent, name: name})
			default:
				if !hasQuery {
					err = fmt.Errorf("unknown name %s: without a query only ok(), fail(), unknown() and total() are available", name)
					return
				}
				free[name] = true
				add(exprRef{kind: refIdent, name: name})
			}
		case *ast.MemberNode:
			id, ok := n.Node.(*ast.IdentifierNode)
			if !ok || !bases[id] {
				return
			}
			key := n.Property.(*ast.StringNode).Value
			if id.Value == "before" {
				needQuery("before")
				refs.usesBefore = true
				refs.beforeKeys = append(refs.beforeKeys, key)
				add(exprRef{kind: refBefore, name: key})
				return
			}
			// $env["x"]
			refs.rows = refs.rows || key == "rows"
			if historyFuncs[key] == nil && !reservedVars[key] {
				needQuery(`$env["` + key + `"]`)
				free[key] = true
				add(exprRef{kind: refEnv, name: key})
			}
		case *ast.CallNode:
			id, ok := n.Callee.(*ast.IdentifierNode)
			if !ok {
				return // a method call, e.g. now().Year()
			}
			if historyFuncs[id.Value] == nil {
				hint := ""
				if best, ok := profiles.Nearest(id.Value, []string{"fail", "ok", "total", "unknown"}); ok {
					hint = "did you mean " + best + "()? "
				}
				err = fmt.Errorf("unknown function %s() (%shistory functions: fail, ok, total, unknown; plus the expr-lang builtins)", id.Value, hint)
				return
			}
			refs.history = true
			switch len(n.Arguments) {
			case 0:
				add(exprRef{kind: refCall, name: id.Value})
			case 1:
				if s, ok := n.Arguments[0].(*ast.StringNode); ok {
					refs.ops = append(refs.ops, s.Value)
					add(exprRef{kind: refCall, name: id.Value, arg: s.Value, hasArg: true})
				}
			default:
				err = fmt.Errorf("%s() takes one operation name, or none for all operations; got %d arguments", id.Value, len(n.Arguments))
			}
		}
	}))
	for name := range free {
		refs.free = append(refs.free, name)
	}
	sort.Strings(refs.free)
	return refs, builtinCalls, err
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(*n) }

// Prepare records the first row of Query after setup, for `before`. It does
// nothing when the expression does not read `before`.
func (c *expectChecker) Prepare(ctx context.Context, env *Env) error {
	if !c.refs.usesBefore {
		return nil
	}
	before, err := c.snapshot(ctx, env)
	c.mu.Lock()
	c.prepared, c.before, c.prepErr = true, before, err
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.inv.Name, err)
	}
	return nil
}

func (c *expectChecker) snapshot(ctx context.Context, env *Env) (map[string]any, error) {
	if env == nil || env.DB == nil {
		return nil, fmt.Errorf("no database to query")
	}
	rows, err := env.DB.Query(ctx, c.inv.Query)
	if err != nil {
		return nil, err
	}
	if len(rows.Values) == 0 {
		return nil, nil
	}
	return rowMap(rows.Columns, rows.Values[0]), nil
}

// Check runs Query and evaluates the expression.
func (c *expectChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	name := firstNonEmpty(c.inv.Name, c.expect)
	errorf := func(format string, args ...any) Result {
		r := errorResult(name, expectCheck, start, format, args...)
		r.Expected = c.expect
		return r
	}
	if env == nil {
		return errorf("no environment")
	}
	vars := map[string]any{"rows": []any{}, "before": map[string]any{}}
	var rows *database.Rows // all rows, or (when the expression does not read rows) the first MaxEvidence
	total := 0              // rows the query returned
	if strings.TrimSpace(c.inv.Query) != "" {
		if env.DB == nil {
			return errorf("no database to query")
		}
		keep := MaxEvidence
		if c.refs.rows {
			keep = math.MaxInt
		}
		var err error
		if rows, total, err = queryFirst(ctx, env.DB, c.inv.Query, keep); err != nil {
			return errorf("query: %v", err)
		}
		cols := map[string]bool{}
		for _, col := range rows.Columns {
			cols[col] = true
		}
		for _, f := range c.refs.free {
			if !cols[f] {
				return errorf("the expression reads %s, but the query returns only the columns %s", f, strings.Join(rows.Columns, ", "))
			}
		}
		if len(rows.Values) == 0 && len(c.refs.free) > 0 {
			return errorf("the query returned no rows, so %s has no value", strings.Join(c.refs.free, ", "))
		}
		if c.refs.rows {
			list := make([]any, len(rows.Values))
			for i, v := range rows.Values {
				list[i] = rowMap(rows.Columns, v)
			}
			vars["rows"] = list
		}
		vars["count"] = total
		if len(rows.Values) > 0 {
			for i, col := range rows.Columns {
				if !reservedVars[col] || col == "count" {
					if historyFuncs[col] == nil {
						vars[col] = exprValue(rows.Values[0][i])
					}
				}
			}
		}
	}
	if c.refs.usesBefore {
		c.mu.Lock()
		prepared, before, perr := c.prepared, c.before, c.prepErr
		c.mu.Unlock()
		switch {
		case !prepared:
			return errorf("before is unknown: the harness did not call Prepare after setup")
		case perr != nil:
			return errorf("before the attack: %v", perr)
		case before == nil:
			return errorf("before is empty: the query returned no rows after setup")
		}
		for _, k := range c.refs.beforeKeys {
			if _, ok := before[k]; !ok {
				return errorf("the expression reads before.%s, but the query returned no column %s after setup", k, k)
			}
		}
		vars["before"] = before
	}

	known := knownOps(env)
	if c.refs.history {
		if env.Tally == nil {
			return errorf("no history tally to count operations")
		}
		for _, op := range c.refs.ops {
			if !known[op] {
				return errorf("unknown operation %q (operations: %s)", op, joinSorted(known))
			}
		}
	}
	tally := env.Tally
	if tally == nil {
		tally = history.NewTally()
	}
	for fname, get := range historyFuncs {
		vars[fname] = func(ops ...string) (int, error) {
			if len(ops) == 0 {
				return get(tally.All()), nil
			}
			if !known[ops[0]] {
				return 0, fmt.Errorf("unknown operation %q (operations: %s)", ops[0], joinSorted(known))
			}
			return get(tally.Of(ops[0])), nil
		}
	}

	out, err := expr.Run(c.prog, vars)
	if err != nil {
		r := errorf("evaluate: %s", firstLine(err.Error()))
		r.Actual = c.actual(vars)
		return r
	}
	ok, isBool := out.(bool)
	if !isBool {
		r := errorf("the expression gave %s (%T), want true or false", formatValue(out), out)
		r.Actual = c.actual(vars)
		return r
	}
	res := Result{
		Name:     name,
		Check:    expectCheck,
		Verdict:  Pass,
		Expected: c.expect,
		Actual:   c.actual(vars),
	}
	if !ok {
		res.Verdict = Fail
		res.Explanation = fmt.Sprintf("Let the run end with %s; Then %s is false.", res.Actual, c.expect)
		if rows != nil && total > 1 {
			for i, row := range rows.Values {
				if i == MaxEvidence-1 && total > MaxEvidence {
					res.addEvidence(fmt.Sprintf("… %d more rows", total-i))
					break
				}
				res.addEvidence(formatRow(rows.Columns, row))
			}
		}
	}
	res.Took = time.Since(start)
	return res
}

// actual renders the values the expression read.
func (c *expectChecker) actual(vars map[string]any) string {
	parts := make([]string, 0, len(c.refs.refs))
	for _, r := range c.refs.refs {
		var v any
		switch r.kind {
		case refIdent, refEnv:
			var ok bool
			if v, ok = vars[r.name]; !ok {
				continue
			}
			if r.name == "rows" {
				parts = append(parts, fmt.Sprintf("rows=[%d rows]", len(v.([]any))))
				continue
			}
		case refBefore:
			b, _ := vars["before"].(map[string]any)
			var ok bool
			if v, ok = b[r.name]; !ok {
				continue
			}
		case refCall:
			fn, _ := vars[r.name].(func(...string) (int, error))
			if fn == nil {
				continue
			}
			var args []string
			if r.hasArg {
				args = []string{r.arg}
			}
			n, err := fn(args...)
			if err != nil {
				continue
			}
			v = n
		}
		parts = append(parts, r.String()+"="+formatValue(v))
	}
	return strings.Join(parts, ", ")
}

// exprValue converts a normalized database value for expressions: integers
// become int, like the history counts, so they compare and add naturally.
func exprValue(v any) any {
	if i, ok := v.(int64); ok && int64(int(i)) == i {
		return int(i)
	}
	return v
}

func rowMap(cols []string, row []any) map[string]any {
	m := make(map[string]any, len(cols))
	for i, col := range cols {
		m[col] = exprValue(row[i])
	}
	return m
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// queryFirst runs q and keeps its first max rows (all with math.MaxInt),
// counting the rest as they stream past: an expression that reads count or the first row's columns
// over a million-row query needs a few MB, not every row as a map.
func queryFirst(ctx context.Context, db database.DB, q string, max int) (*database.Rows, int, error) {
	res := &database.Rows{}
	n := 0
	cols, err := db.Each(ctx, q, func(row []any) error {
		if n < max {
			res.Values = append(res.Values, append([]any(nil), row...))
		}
		n++
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	res.Columns = cols
	return res, n, nil
}

// OperationsNamed returns the operation names the expression passes to
// ok(), fail(), unknown() and total(), in source order (OperationNamer).
func (c *expectChecker) OperationsNamed() []string { return c.refs.ops }
