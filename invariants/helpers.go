package invariants

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// This file holds what more than one checker uses: the history and its
// values, exact numbers, what ops of an operation add up to (effect), the
// state recorded by Prepare, and how ops and rows are shown in evidence. A
// checker's file uses this file, explain.go, result.go and keyed.go (the
// per_key form of the one-number checkers), never another checker's file.

// knownOps is the set of operation names an invariant may name: the
// profile's operations and the flow steps of theirs seen in the tally
// (named <operation>.<step>), or when the harness did not give the
// operations, every name seen in the tally.
func knownOps(env *Env) map[string]bool {
	known := map[string]bool{}
	for _, op := range env.Operations {
		known[op] = true
	}
	if env.Tally != nil {
		for _, op := range env.Tally.Names() {
			parent, _, isStep := strings.Cut(op, ".")
			if env.Operations == nil || (isStep && known[parent]) {
				known[op] = true
			}
		}
	}
	return known
}

// checkOpNames errors on an operation name the run does not know. With
// neither Operations nor a tally nothing is known, and nothing is checked.
func checkOpNames(env *Env, names ...string) error {
	if env.Operations == nil && env.Tally == nil {
		return nil
	}
	known := knownOps(env)
	for _, n := range names {
		if n != "" && !known[n] {
			return fmt.Errorf("unknown operation %q (operations: %s)", n, joinSorted(known))
		}
	}
	return nil
}

// readOps reads the ops whose name is in names from the run's history file,
// in file order.
func readOps(env *Env, names ...string) ([]*history.Op, error) {
	var ops []*history.Op
	err := eachOp(env, false, func(op *history.Op) error {
		kept := *op
		ops = append(ops, &kept)
		return nil
	}, names...)
	if err != nil {
		return nil, err
	}
	return ops, nil
}

// eachOp calls fn for every op whose name is in names, in file order,
// decoding each line into one reused Op (fn must not keep it): checkers that
// aggregate keep nothing per op, whatever the history's length. skipTimes
// leaves Invoke and Complete zero.
func eachOp(env *Env, skipTimes bool, fn func(*history.Op) error, names ...string) error {
	if env.HistoryPath == "" {
		return fmt.Errorf("no history file to read (Env.HistoryPath is empty)")
	}
	return history.Stream(env.HistoryPath, skipTimes, func(op *history.Op) error {
		if slices.Contains(names, op.Op) {
			return fn(op)
		}
		return nil
	})
}

// exactSum adds amounts exactly: integers in an int64 while that cannot
// overflow, everything else (and the int64 when it grows large) in a
// big.Rat. Adding a million amounts as big.Rats took a quarter of a counter
// check's time.
type exactSum struct {
	n int64
	r big.Rat
}

// add adds a, or n when a is nil (see smallInt).
func (s *exactSum) add(n int64, a *big.Rat) {
	if a != nil {
		s.r.Add(&s.r, a)
		return
	}
	const limit = 1 << 61
	if s.n > limit || s.n < -limit {
		s.r.Add(&s.r, big.NewRat(s.n, 1))
		s.n = 0
	}
	s.n += n
}

// addTo adds the sum to r.
func (s *exactSum) addTo(r *big.Rat) {
	r.Add(r, &s.r)
	r.Add(r, big.NewRat(s.n, 1))
}

// smallInt returns v as an int64 when it is an integer of magnitude below
// 2^40 written the one way toRat can only read as that integer (a string
// of decimal digits without leading zeros, or an integral number); other
// values go through toRat.
func smallInt(v any) (int64, bool) {
	const limit = 1 << 40
	switch x := v.(type) {
	case string:
		s := x
		if len(s) > 0 && s[0] == '-' {
			s = s[1:]
		}
		if len(s) == 0 || len(s) > 12 || (s[0] == '0' && len(s) > 1) {
			return 0, false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil || n >= limit || n <= -limit {
			return 0, false
		}
		return n, true
	case float64:
		if x == math.Trunc(x) && x < limit && x > -limit {
			return int64(x), true
		}
	case int64:
		if x < limit && x > -limit {
			return x, true
		}
	case int:
		if x < limit && x > -limit {
			return int64(x), true
		}
	}
	return 0, false
}

// countsText reads "1000 ok, 12 fail, 3 unknown".
func countsText(c history.Counts) string {
	return fmt.Sprintf("%d ok, %d fail, %d unknown", c.OK, c.Fail, c.Unknown)
}

// opValue is the value named name of op: a value rendered into the request
// (Values) or, failing that, one captured from the response (Captures).
func opValue(op *history.Op, name string) (any, bool) {
	if v, ok := op.Values[name]; ok {
		return v, true
	}
	if v, ok := op.Captures[name]; ok {
		return v, true
	}
	return nil, false
}

// valueText is the text of a value, for comparing values across the
// history and the database: strings as they are, integral numbers without a
// fraction (the capture 17.0 and the column 17 are both "17"), times in
// RFC 3339. NULL has no text.
func valueText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10), true
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case time.Time:
		return x.Format(time.RFC3339Nano), true
	default:
		return fmt.Sprint(x), true
	}
}

// groupKey is the key an op is grouped by: the rendered value or capture
// named group, or the op's history key when group is empty or "key".
func groupKey(op *history.Op, group string) (string, bool) {
	if group == "" {
		return op.Key, true
	}
	v, ok := opValue(op, group)
	if !ok {
		if group == "key" {
			return op.Key, true // {{key}} is rendered but kept as Op.Key
		}
		return "", false
	}
	return valueText(v)
}

// Exact numbers. Balances and counters are compared exactly with big.Rat:
// a float64 from the database or a YAML step is taken at its shortest
// decimal form, so 0.1 + 0.2 == 0.3 and NUMERIC(12,2) sums never round.

// toRat converts a number, or a string holding one, to an exact rational.
func toRat(v any) (*big.Rat, error) {
	r := new(big.Rat)
	switch x := v.(type) {
	case nil:
		return nil, fmt.Errorf("is NULL, not a number")
	case int64:
		return r.SetInt64(x), nil
	case int:
		return r.SetInt64(int64(x)), nil
	case float64:
		if _, ok := r.SetString(strconv.FormatFloat(x, 'g', -1, 64)); !ok {
			return nil, fmt.Errorf("%v is not a finite number", x)
		}
		return r, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" || strings.ContainsAny(s, "/") {
			return nil, fmt.Errorf("%s is not a number", formatValue(x))
		}
		if _, ok := r.SetString(s); !ok {
			return nil, fmt.Errorf("%s is not a number", formatValue(x))
		}
		return r, nil
	default:
		return nil, fmt.Errorf("%s (%T) is not a number", formatValue(v), v)
	}
}

// ratOf converts a float64 from the profile to an exact rational.
func ratOf(f float64) *big.Rat {
	r, err := toRat(f)
	if err != nil {
		return new(big.Rat)
	}
	return r
}

// fmtRat formats r as an integer or the shortest exact decimal (up to 18
// places; past that it is rounded to 10).
func fmtRat(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	for prec := 1; prec <= 18; prec++ {
		s := r.FloatString(prec)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(10)
}

// fmtSigned formats r with a sign: +812, -3, +0.
func fmtSigned(r *big.Rat) string {
	if r.Sign() < 0 {
		return fmtRat(r)
	}
	return "+" + fmtRat(r)
}

func ratMul(a *big.Rat, n int) *big.Rat {
	return new(big.Rat).Mul(a, new(big.Rat).SetInt64(int64(n)))
}

func ratAdd(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(a, b) }

func ratSub(a, b *big.Rat) *big.Rat { return new(big.Rat).Sub(a, b) }

// countOf divides a shortfall by a step, rounding up: how many ops of size
// step are needed to cover d.
func countOf(d, step *big.Rat) string {
	if step.Sign() == 0 {
		return fmtRat(d)
	}
	q := new(big.Rat).Quo(d, step)
	q.Abs(q)
	n := new(big.Int).Quo(q.Num(), q.Denom())
	if !q.IsInt() {
		n.Add(n, big.NewInt(1))
	}
	return n.String()
}

// queryNumber runs q and returns the first column of its only row as an
// exact number, with the column's name.
func queryNumber(ctx context.Context, db database.DB, q string) (*big.Rat, string, error) {
	rows, err := db.Query(ctx, q)
	if err != nil {
		return nil, "", err
	}
	switch {
	case len(rows.Columns) == 0:
		return nil, "", fmt.Errorf("the query returned no columns: want one number")
	case len(rows.Values) == 0:
		return nil, "", fmt.Errorf("the query returned no rows: want one row with one number")
	case len(rows.Values) > 1:
		return nil, "", fmt.Errorf("the query returned %d rows: want one number (aggregate, e.g. SELECT sum(balance) FROM accounts, or narrow the WHERE)", len(rows.Values))
	}
	col := rows.Columns[0]
	n, err := toRat(rows.Values[0][0])
	if err != nil {
		hint := ""
		if rows.Values[0][0] == nil {
			hint = " (wrap an aggregate in COALESCE(…, 0) if the table may be empty)"
		}
		return nil, col, fmt.Errorf("%s %v%s", col, err, hint)
	}
	return n, col, nil
}

// snapshot is what Prepare recorded after setup, for Check to compare with.
type snapshot[T any] struct {
	mu   sync.Mutex
	done bool
	val  T
	err  error
}

func (s *snapshot[T]) set(v T, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done, s.val, s.err = true, v, err
}

// get returns the recorded value, or an error when Prepare was not called
// or failed.
func (s *snapshot[T]) get() (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	switch {
	case !s.done:
		return zero, fmt.Errorf("the state before the attack is unknown: the harness did not call Prepare after setup")
	case s.err != nil:
		return zero, fmt.Errorf("before the attack: %v", s.err)
	}
	return s.val, nil
}

// Evidence formatting.

// clock formats a time of day with microseconds, in UTC.
func clock(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("15:04:05.000000")
}

// fmtOp describes one op for evidence: its id, outcome, status and times,
// e.g. `#17 ok 201 03:04:05.123456→03:04:05.168012`.
func fmtOp(op *history.Op) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s", op.ID, op.Outcome)
	if op.Status != 0 {
		fmt.Fprintf(&b, " %d", op.Status)
	}
	fmt.Fprintf(&b, " %s→%s", clock(op.Invoke), clock(op.Complete))
	if op.Outcome == history.Unknown && op.Error != "" {
		e := op.Error
		if r := []rune(e); len(r) > 40 {
			e = string(r[:39]) + "…"
		}
		fmt.Fprintf(&b, " (%s)", e)
	}
	return b.String()
}

// fmtOps describes up to max ops, then how many more there are.
func fmtOps(ops []*history.Op, max int) string {
	parts := make([]string, 0, min(len(ops), max)+1)
	for i, op := range ops {
		if i == max {
			parts = append(parts, fmt.Sprintf("… %d more", len(ops)-max))
			break
		}
		parts = append(parts, fmtOp(op))
	}
	return strings.Join(parts, "; ")
}

// byInvoke sorts ops by invoke time, then id.
func byInvoke(ops []*history.Op) {
	sort.SliceStable(ops, func(i, j int) bool {
		if !ops[i].Invoke.Equal(ops[j].Invoke) {
			return ops[i].Invoke.Before(ops[j].Invoke)
		}
		return ops[i].ID < ops[j].ID
	})
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkName is the Result name of an invariant: its sentence, or the first
// of its queries.
func checkName(inv profiles.Invariant, check string) string {
	return firstNonEmpty(inv.Name, inv.Query, check)
}

// newResult begins a passing Result; checks turn it into a fail or an
// error.
func newResult(name, check, expected string) Result {
	return Result{Name: name, Check: check, Verdict: Pass, Expected: expected}
}

// errorf turns r into an error verdict.
func (r Result) errorf(start time.Time, format string, args ...any) Result {
	r.Verdict = Error
	r.Error = fmt.Sprintf(format, args...)
	r.Anomaly, r.Fix = "", ""
	r.Explanation, r.Ops, r.MoreOps = "", nil, 0
	r.Took = time.Since(start)
	return r
}

// done stamps r's duration.
func (r Result) done(start time.Time) Result {
	r.Took = time.Since(start)
	if r.Took <= 0 {
		r.Took = time.Nanosecond
	}
	return r
}

// numberAt is a number a query returned, with its column's name.
type numberAt struct {
	n   *big.Rat
	col string
}

func prepareNumber(ctx context.Context, env *Env, q string) (numberAt, error) {
	if env == nil || env.DB == nil {
		return numberAt{}, fmt.Errorf("no database to query")
	}
	n, col, err := queryNumber(ctx, env.DB, q)
	return numberAt{n, col}, err
}

// openBound says why a bound with lost amounts decides nothing.
func (e *effect) openBound(valueFrom string) string {
	return fmt.Sprintf("inconclusive: %d unknown %s carried no %s (response cut), so what they added is unknown", e.lost, plural(e.lost, "request", "requests"), valueFrom)
}

// judgeCounter says whether a counter's growth delta stays within the
// bound of e: "" when it does, else the problem, its anomaly and the usual
// fix.
func (e *effect) judgeCounter(delta *big.Rat) (problem, anomaly, fix string) {
	if e.lost > 0 {
		return "", "", "" // the bound is open: see effect.lost
	}
	switch {
	case delta.Cmp(e.lo) < 0:
		return e.shortfall(ratSub(e.lo, delta), "acknowledged increment", "acknowledged increments") + " missing", "lost update", counterFix
	case delta.Cmp(e.hi) > 0:
		return e.shortfall(ratSub(delta, e.hi), "increment", "increments") + " more than the ok and unknown ops could make",
			"phantom increments / double apply",
			"Implement idempotency keys: apply each request once: an idempotency key stored in the same transaction as the increment, and no blind retries of non-idempotent writes"
	}
	return "", "", ""
}

// effect bounds what the ops of one operation did in total: ok ops applied
// their amount, unknown ops their amount or nothing, fail ops nothing.
type effect struct {
	op     string
	counts history.Counts
	// step is the amount of every op, or nil when each op carries its own
	// (value_from).
	step *big.Rat
	// ok is the sum over ok ops; lo and hi bound the sum over applied ops.
	ok, lo, hi *big.Rat
	// lost counts unknown ops whose amount (value_from, a capture) was
	// lost with their response: while there are any, lo and hi leave those
	// ops out, the bound is open and the check can only be inconclusive.
	lost int
}

// opEffect computes the effect of the ops of op: from the tally when every
// op has the same step, from the history when each op's amount is its
// value named valueFrom.
func opEffect(env *Env, op string, step *big.Rat, valueFrom string) (effect, error) {
	if valueFrom == "" {
		if env.Tally == nil {
			return effect{op: op, ok: new(big.Rat), lo: new(big.Rat), hi: new(big.Rat)}, fmt.Errorf("no history tally to count operation %q", op)
		}
		c := env.Tally.Of(op)
		return stepEffect(op, c, step), nil
	}
	// Each op's amount goes into ok, lo and hi as it streams past: nothing
	// is kept per op, so a million-op history takes a fraction of a second.
	var sums effectSums
	err := eachOp(env, true, func(o *history.Op) error { return sums.add(o, op, valueFrom) }, op)
	return sums.effect(op), err
}

// stepEffect is the effect of ops that each add step: ok ones certainly,
// unknown ones perhaps.
func stepEffect(op string, counts history.Counts, step *big.Rat) effect {
	e := effect{op: op, counts: counts, step: step}
	e.ok = ratMul(step, counts.OK)
	unk := ratMul(step, counts.Unknown)
	e.lo, e.hi = new(big.Rat).Set(e.ok), new(big.Rat).Set(e.ok)
	if step.Sign() < 0 {
		e.lo.Add(e.lo, unk)
	} else {
		e.hi.Add(e.hi, unk)
	}
	return e
}

// effectSums adds up, op by op, the amounts named value_from of ops that
// each carry their own.
type effectSums struct {
	counts              history.Counts
	okSum, loSum, hiSum exactSum
	lost                int // unknown ops without their amount
}

// add counts o and adds its amount, named valueFrom, to the sums it may
// have gone into.
func (s *effectSums) add(o *history.Op, op, valueFrom string) error {
	s.counts.Add(o.Outcome)
	if o.Outcome == history.Fail {
		return nil
	}
	v, ok := opValue(o, valueFrom)
	if !ok && o.Outcome == history.Unknown {
		s.lost++ // a capture is lost with its response
		return nil
	}
	if !ok {
		return fmt.Errorf("op #%d (%s) of %q has no value or capture %q to take its amount from", o.ID, o.Outcome, op, valueFrom)
	}
	n, isInt := smallInt(v)
	var a *big.Rat // nil when the amount is the integer n
	if !isInt {
		var err error
		if a, err = toRat(v); err != nil {
			return fmt.Errorf("op #%d of %q: %s %v", o.ID, op, valueFrom, err)
		}
	}
	switch {
	case o.Outcome == history.OK:
		s.okSum.add(n, a)
		s.loSum.add(n, a)
		s.hiSum.add(n, a)
	case n < 0 || (a != nil && a.Sign() < 0):
		s.loSum.add(n, a)
	default:
		s.hiSum.add(n, a)
	}
	return nil
}

// effect is the effect the sums bound.
func (s *effectSums) effect(op string) effect {
	e := effect{op: op, counts: s.counts, ok: new(big.Rat), lo: new(big.Rat), hi: new(big.Rat), lost: s.lost}
	s.okSum.addTo(e.ok)
	s.loSum.addTo(e.lo)
	s.hiSum.addTo(e.hi)
	return e
}

// expected says in words what the bound is.
func (e effect) expected(what, unit string) string {
	if e.lo.Cmp(e.hi) == 0 {
		return fmt.Sprintf("%s = %s: every acknowledged %s applied exactly once (%s: %s)", what, fmtSigned(e.lo), unit, e.op, countsText(e.counts))
	}
	return fmt.Sprintf("%s between %s and %s: every acknowledged %s applied once, each unknown one at most once", what, fmtSigned(e.lo), fmtSigned(e.hi), unit)
}

// shortfall words an excess or shortfall d as a count of ops when every op
// has the same step, else as an amount.
func (e effect) shortfall(d *big.Rat, one, many string) string {
	if e.step != nil {
		n := countOf(d, e.step)
		if n == "1" {
			return "1 " + one
		}
		return n + " " + many
	}
	return many + " worth " + fmtRat(d)
}

func formatRow(cols []string, row []any) string {
	parts := make([]string, len(cols))
	for i, col := range cols {
		parts[i] = col + "=" + formatValue(row[i])
	}
	return strings.Join(parts, " ")
}

func joinSorted(set map[string]bool) string {
	if len(set) == 0 {
		return "none"
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// keyedValues runs a (key, value) query into a map; a repeated key or a
// NULL key is an error.
func keyedValues(ctx context.Context, db database.DB, q string) (map[string]any, error) {
	m := map[string]any{}
	var dup string
	cols, err := db.Each(ctx, q, func(row []any) error {
		if len(row) != 2 {
			return fmt.Errorf("the query returns %d columns: want two, the key and the value", len(row))
		}
		k, ok := valueText(row[0])
		if !ok {
			return fmt.Errorf("a row has a NULL key")
		}
		if _, seen := m[k]; seen && dup == "" {
			dup = k
		}
		m[k] = row[1]
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(cols) != 2 {
		return nil, fmt.Errorf("the query returns %d columns: want two, the key and the value", len(cols))
	}
	if dup != "" {
		return nil, fmt.Errorf("key %s appears in more than one row: want one row per key", formatValue(dup))
	}
	return m, nil
}

// uniqueFix is the usual cure for duplicates.
const uniqueFix = "Implement idempotency keys: a unique constraint on the key, insert-the-key-first idempotency, or SELECT … FOR UPDATE around check-then-insert"

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
