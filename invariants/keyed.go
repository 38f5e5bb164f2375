package invariants

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// KeyValues runs an operation's key query (keys: {query: …}) and returns
// the first column of its rows as text, in row order and without repeats:
// the values {{key}} renders. Database values become text as checkers
// compare them with the history (valueText: the integer 17 and 17.0 are
// both "17"), so an op's key matches its row in a per-key check. No rows, a
// NULL, or more than limit distinct keys is an error.
func KeyValues(ctx context.Context, db database.DB, query string, limit int) ([]string, error) {
	var keys []string
	seen := map[string]bool{}
	rows := 0
	_, err := db.Each(ctx, query, func(row []any) error {
		rows++
		if len(row) == 0 {
			return fmt.Errorf("the query returns no columns: want the keys in the first")
		}
		k, ok := valueText(row[0])
		switch {
		case !ok:
			return fmt.Errorf("row %d: the key is NULL", rows)
		case k == "":
			return fmt.Errorf("row %d: the key is empty text", rows)
		case seen[k]:
			return nil
		case len(keys) == limit:
			return fmt.Errorf("more than %d keys: narrow the query (e.g. a WHERE or LIMIT)", limit)
		}
		seen[k] = true
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the query returned no rows: want at least one key (does setup create the rows?)")
	}
	return keys, nil
}

// perKeyChecker is the per_key form of a one-number checker (counter,
// conservation, bounded_debits): Query returns (key, number) rows; Prepare
// records every key's number after setup, and Check judges each key with
// its own number and, for checkers that read ops, the ops whose key (or
// group value) it is — so each key's bound stays sound under unknown. The
// invariant fails when any key fails; the evidence names the failing keys.
// A key that must be judged (one with ok or unknown ops, or any key for
// conservation) but lacks a row before or after the attack cannot be
// checked: an error, unless another key failed.
type perKeyChecker struct {
	name, check, query string
	op, valueFrom      string
	group              string
	// amount is what one op adds (counter) or takes (bounded_debits) when
	// ops do not carry their own (value_from); nil for conservation.
	amount   *big.Rat
	expected string
	// judge judges one key: "" when it holds, else what went wrong (with
	// the key's numbers and ops), the bare problem, the anomaly and the
	// usual fix. eff is nil for checkers that read no ops.
	judge func(before, after *big.Rat, col string, eff *effect) (line, problem, anomaly, fix string)
	// w are the domain's words; one and many name one op's effect
	// ("debit", "debits"), empty for checkers that read no ops.
	w         words
	one, many string
	before    snapshot[keyedNumbers]
}

// keyedNumbers is a per-key query's result: each key's number, and the
// number column's name.
type keyedNumbers struct {
	col string
	n   map[string]*big.Rat
}

// groupNeedsPerKey rejects group on a one-number checker without per_key,
// where it would be silently ignored.
func groupNeedsPerKey(group string, perKey bool) error {
	if group != "" && !perKey {
		return fmt.Errorf("group groups ops by key for a per-key check: set per_key: true (and a query of key, number rows)")
	}
	return nil
}

func newPerKey(inv profiles.Invariant, check, valueFrom, group string, amount *big.Rat, expected, one, many string,
	judge func(before, after *big.Rat, col string, eff *effect) (string, string, string, string)) (Checker, error) {
	return &perKeyChecker{name: checkName(inv, check), check: check, query: inv.Query, op: inv.Op, valueFrom: valueFrom,
		group: group, amount: amount, expected: expected, judge: judge, w: wordsOf(inv), one: one, many: many}, nil
}

// Prepare records every key's number after setup.
func (c *perKeyChecker) Prepare(ctx context.Context, env *Env) error {
	if env == nil || env.DB == nil {
		err := fmt.Errorf("no database to query")
		c.before.set(keyedNumbers{}, err)
		return err
	}
	m, err := readKeyedNumbers(ctx, env.DB, c.query)
	c.before.set(m, err)
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.name, err)
	}
	return nil
}

// readKeyedNumbers runs a (key, number) query. A repeated or NULL key, a
// value that is not a number, or a shape other than two columns is an
// error.
func readKeyedNumbers(ctx context.Context, db database.DB, q string) (keyedNumbers, error) {
	m := keyedNumbers{n: map[string]*big.Rat{}}
	shape := func(n int) error {
		return fmt.Errorf("the query returns %d %s: want two, the key and its number (per_key)", n, plural(n, "column", "columns"))
	}
	cols, err := db.Each(ctx, q, func(row []any) error {
		if len(row) != 2 {
			return shape(len(row))
		}
		k, ok := valueText(row[0])
		if !ok {
			return fmt.Errorf("a row has a NULL key")
		}
		if _, dup := m.n[k]; dup {
			return fmt.Errorf("key %s appears in more than one row: want one row per key (GROUP BY the key)", formatValue(k))
		}
		n, err := toRat(row[1])
		if err != nil {
			return fmt.Errorf("key %s: %v", formatValue(k), err)
		}
		m.n[k] = n
		return nil
	})
	if err != nil {
		return m, err
	}
	if len(cols) != 2 {
		return m, shape(len(cols))
	}
	m.col = cols[1]
	return m, nil
}

// opEffectByKey is opEffect per key: the ops of op grouped by their
// history key, or by the value named group. A failed op without the value
// named group did nothing and is left out; an unknown one (its capture lost
// with its response) may have acted on any key: loose bounds what such ops
// did together, and every key's bound is widened by it (nil when there is
// none).
func (c *perKeyChecker) opEffectByKey(env *Env) (effs map[string]*effect, loose *effect, err error) {
	counts := map[string]*history.Counts{}
	sums := map[string]*effectSums{}
	var looseCounts history.Counts
	var looseSums effectSums
	err = eachOp(env, true, func(o *history.Op) error {
		k, ok := groupKey(o, c.group)
		switch {
		case !ok && o.Outcome == history.Fail:
			return nil
		case !ok && o.Outcome == history.Unknown:
			if c.valueFrom == "" {
				looseCounts.Add(o.Outcome)
				return nil
			}
			return looseSums.add(o, c.op, c.valueFrom)
		case !ok:
			return fmt.Errorf("op #%d of %q has no value or capture %q to group by", o.ID, c.op, c.group)
		case k == "" && c.group == "":
			return fmt.Errorf("op #%d of %q has no key: per_key needs {{key}} in the request (with keys: a list, a range or a query), or group naming the value that holds the key", o.ID, c.op)
		}
		if c.valueFrom == "" {
			n := counts[k]
			if n == nil {
				n = &history.Counts{}
				counts[k] = n
			}
			n.Add(o.Outcome)
			return nil
		}
		s := sums[k]
		if s == nil {
			s = &effectSums{}
			sums[k] = s
		}
		return s.add(o, c.op, c.valueFrom)
	}, c.op)
	if err != nil {
		return nil, nil, err
	}
	if looseCounts.Unknown > 0 {
		e := stepEffect(c.op, looseCounts, c.amount)
		loose = &e
	} else if looseSums.counts.Unknown > 0 {
		e := looseSums.effect(c.op)
		loose = &e
	}
	out := make(map[string]*effect, len(counts)+len(sums))
	for k, n := range counts {
		e := stepEffect(c.op, *n, c.amount)
		out[k] = &e
	}
	for k, s := range sums {
		e := s.effect(c.op)
		out[k] = &e
	}
	return out, loose, nil
}

func (c *perKeyChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, c.check, c.expected)
	if env == nil || env.DB == nil {
		return res.errorf(start, "no database to query")
	}
	if c.op != "" {
		if err := checkOpNames(env, c.op); err != nil {
			return res.errorf(start, "%v", err)
		}
	}
	before, err := c.before.get()
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	var effs map[string]*effect
	var loose *effect
	var all history.Counts
	if c.op != "" {
		if effs, loose, err = c.opEffectByKey(env); err != nil {
			return res.errorf(start, "%v", err)
		}
		for _, e := range effs {
			all.OK, all.Fail, all.Unknown = all.OK+e.counts.OK, all.Fail+e.counts.Fail, all.Unknown+e.counts.Unknown
		}
		if loose != nil {
			all.Unknown += loose.counts.Unknown
		}
	}
	after, err := readKeyedNumbers(ctx, env.DB, c.query)
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}

	names := map[string]bool{}
	for _, m := range []map[string]*big.Rat{before.n, after.n} {
		for k := range m {
			names[k] = true
		}
	}
	for k := range effs {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)

	var failed, unchecked []string
	var firstFail *keyFailure
	open := 0 // keys left undecided: unknown ops of theirs lost their amount
	anomalies := map[string]int{}
	fixes := map[string]string{}
	checked := 0
	for _, k := range keys {
		eff := effs[k]
		if c.op != "" && eff == nil {
			e := stepEffect(c.op, history.Counts{}, new(big.Rat))
			eff = &e
		}
		if loose != nil {
			// The key's own bound, widened by what the unknown ops of no
			// known key may have done here.
			e := *eff
			e.lo, e.hi = ratAdd(eff.lo, loose.lo), ratAdd(eff.hi, loose.hi)
			e.lost += loose.lost
			eff = &e
		}
		b, hadBefore := before.n[k]
		a, hasAfter := after.n[k]
		if !hadBefore || !hasAfter {
			if c.op != "" && eff.counts.OK+eff.counts.Unknown == 0 {
				continue // no row to judge and nothing that may have written one
			}
			when := "after"
			switch {
			case !hadBefore && !hasAfter:
				when = "before or after"
			case !hadBefore:
				when = "before"
			}
			what := ""
			if eff != nil {
				what = fmt.Sprintf(" (%s: %s)", c.op, countsText(eff.counts))
			}
			unchecked = append(unchecked, fmt.Sprintf("key %s: no row %s the attack%s", formatValue(k), when, what))
			continue
		}
		checked++
		line, problem, anomaly, fix := c.judge(b, a, before.col, eff)
		if anomaly == "" {
			if eff != nil && eff.lost > 0 {
				open++
			}
			continue
		}
		if firstFail == nil {
			firstFail = &keyFailure{key: k, before: b, after: a, eff: eff, problem: problem}
		}
		failed = append(failed, fmt.Sprintf("%s%s", keyPrefix(k), line))
		if anomalies[anomaly] == 0 {
			fixes[anomaly] = fix
		}
		anomalies[anomaly]++
	}

	res.Actual = fmt.Sprintf("%d %s checked", checked, plural(checked, "key", "keys"))
	if c.op != "" {
		res.Actual += fmt.Sprintf("; %s: %s", c.op, countsText(all))
	}
	if loose != nil {
		res.Actual += fmt.Sprintf("; %d unknown %s carried no %s (response cut): each may have acted on any key", loose.counts.Unknown, plural(loose.counts.Unknown, "request", "requests"), c.group)
	}
	switch {
	case len(failed) > 0:
		res.Verdict = Fail
		res.Actual += fmt.Sprintf("; %d %s violated", len(failed), plural(len(failed), "key", "keys"))
		best := 0
		for a, n := range anomalies {
			if n > best || (n == best && a < res.Anomaly) {
				res.Anomaly, best = a, n
			}
		}
		res.Fix = fixes[res.Anomaly]
		c.explain(env, &res, before.col, firstFail, len(failed))
		if len(unchecked) > 0 {
			res.Actual += fmt.Sprintf("; %d %s could not be checked (no row before or after)", len(unchecked), plural(len(unchecked), "key", "keys"))
		}
		for i, f := range failed {
			if i == MaxEvidence-1 && len(failed) > MaxEvidence {
				res.addEvidence(fmt.Sprintf("… %d more failing keys", len(failed)-i))
				break
			}
			res.addEvidence(f)
		}
	case len(unchecked) > 0:
		more := ""
		if len(unchecked) > 3 {
			more = fmt.Sprintf("; … %d more", len(unchecked)-3)
		}
		return res.errorf(start, "%d %s cannot be checked: %s%s (the query must return every key the ops wrote, before and after the attack; the history keys and the query's first column must match)",
			len(unchecked), plural(len(unchecked), "key", "keys"), strings.Join(unchecked[:min(3, len(unchecked))], "; "), more)
	case checked == 0:
		return res.errorf(start, "no key to check: the query returned no rows before or after the attack")
	case open > 0:
		res.Verdict = Unknown
		res.Actual += fmt.Sprintf("; inconclusive on %d %s: unknown requests that carried no %s (response cut) may have added anything", open, plural(open, "key", "keys"), c.valueFrom)
	default:
		res.Actual += "; every key within its bound"
	}
	return res.done(start)
}

// compareKeys orders keys as numbers when both are integers, numbers
// before text, and text as text: 2 < 10 < "a".
func compareKeys(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(x, y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// keyFailure is one failing key of a per-key check, for its explanation.
type keyFailure struct {
	key           string
	before, after *big.Rat
	eff           *effect
	problem       string
}

// explain sets res's explanation and ops from the first failing key: its
// acknowledged ops (those of the checker's operation grouped under the key,
// or, for a checker that reads none, every op on the key).
func (c *perKeyChecker) explain(env *Env, res *Result, col string, f *keyFailure, failed int) {
	if f == nil {
		return
	}
	match := func(o *history.Op) bool {
		k, ok := groupKey(o, c.group)
		return ok && k == f.key
	}
	known := -1
	if f.eff != nil {
		known = f.eff.counts.OK
	}
	acked := ""
	if f.eff != nil && c.one != "" {
		acked = c.w.ackedWords(f.eff, c.one, c.many)
	}
	res.explainNumber(env, c.w, c.op, match, known, f.key, col, f.before, f.after, acked, f.problem)
	if failed > 1 {
		res.Explanation = strings.TrimSuffix(res.Explanation, ".") + fmt.Sprintf(" (and %d more %s).", failed-1, plural(failed-1, c.w.thing, c.w.thing+"s"))
	}
}
