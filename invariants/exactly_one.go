package invariants

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

const exactlyOneFix = "Implement idempotency keys: store the idempotency key with a unique constraint before doing the work (INSERT … ON CONFLICT DO NOTHING, then answer the loser with 409 or the winner's id), SELECT … FOR UPDATE on the parent row, or a unique constraint on (entity_id, operation, status='active')"

// exactlyOneChecker is the "exactly_one" checker (audit RC-001, double
// submit): of the concurrent conflicting requests for one key, at most one
// may succeed. Keys are the ops' history keys, or the rendered value or
// capture named by group. With value_from, several ok answers for one key
// are allowed when they all carry the same value (an idempotent replay that
// returns the first request's id). With require, every key needs one ok op
// unless one of its ops ended unknown (it may have been the winner).
type exactlyOneChecker struct {
	name      string
	op        string
	group     string
	valueFrom string
	require   bool
	w         words
}

// exactlyOneCheck is the checker's name, written once: the profile's check: value.
const exactlyOneCheck = "exactly_one"

func init() {
	Register(Kind[exactlyOneFields]{
		Name: exactlyOneCheck, About: "at most one request per key succeeds (double submit, RC-001)",
		Op: Required, New: newExactlyOne,
	})
}

// exactlyOneFields are exactly_one's own fields.
type exactlyOneFields struct {
	Group     string `yaml:"group" jsonschema_description:"The rendered value or capture that groups ops by key; default the op's history key."`
	ValueFrom string `yaml:"value_from" jsonschema_description:"The rendered value or capture that names what a winner created: ok ops of one key with the same value count as one."`
	Require   bool   `yaml:"require" jsonschema_description:"Demand at least one ok op per key."`
}

func newExactlyOne(inv profiles.Invariant, f *exactlyOneFields) (Checker, error) {
	return &exactlyOneChecker{name: checkName(inv, exactlyOneCheck), op: inv.Op, group: f.Group, valueFrom: f.ValueFrom, require: f.Require, w: wordsOf(inv)}, nil
}

func (c *exactlyOneChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	expected := "at most one ok " + c.op + " per key"
	if c.valueFrom != "" {
		expected = fmt.Sprintf("every ok %s of one key answers with the same %s (one winner, replays get its %s)", c.op, c.valueFrom, c.valueFrom)
	}
	if c.require {
		expected += "; at least one ok per key unless one ended unknown"
	}
	res := newResult(c.name, exactlyOneCheck, expected)
	if env == nil {
		return res.errorf(start, "no environment")
	}
	if err := checkOpNames(env, c.op); err != nil {
		return res.errorf(start, "%v", err)
	}
	ops, err := readOps(env, c.op)
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	if len(ops) == 0 {
		return res.errorf(start, "the history has no %q ops: nothing to check", c.op)
	}
	type keyOps struct {
		ok     []*history.Op
		all    []*history.Op // every op, kept only up to MaxOps
		counts history.Counts
	}
	keys := map[string]*keyOps{}
	var all history.Counts
	// unplaced counts unknown ops whose key (group, a capture) was lost
	// with their response: each may have been the winner of one key.
	unplaced := 0
	for _, o := range ops {
		k, found := groupKey(o, c.group)
		if !found {
			if o.Outcome != history.OK {
				// A rejected or lost request may carry no capture to group by.
				all.Add(o.Outcome)
				if o.Outcome == history.Unknown {
					unplaced++
				}
				continue
			}
			return res.errorf(start, "ok op %s has no value or capture %q to group by", fmtOp(o), c.group)
		}
		ko := keys[k]
		if ko == nil {
			ko = &keyOps{}
			keys[k] = ko
		}
		ko.counts.Add(o.Outcome)
		all.Add(o.Outcome)
		if len(ko.all) < MaxOps {
			ko.all = append(ko.all, o)
		}
		if o.Outcome == history.OK {
			ko.ok = append(ko.ok, o)
		}
	}
	type violation struct {
		key  string
		line string
		n    int // ok ops beyond the first, for sorting
		// why is the violation's explanation, ops the requests it names.
		why  string
		ops  []*history.Op
		role string
	}
	var dups, none []violation
	extra := 0
	for _, k := range sortedKeys(keys) {
		ko := keys[k]
		byInvoke(ko.ok)
		if c.valueFrom != "" {
			// Several ok answers are one success when they name one result.
			values := map[string][]*history.Op{}
			for _, o := range ko.ok {
				v, found := opValue(o, c.valueFrom)
				if !found {
					return res.errorf(start, "ok op %s of key %s has no value or capture %q", fmtOp(o), formatValue(k), c.valueFrom)
				}
				t, _ := valueText(v)
				values[t] = append(values[t], o)
			}
			if len(values) > 1 {
				var parts []string
				for _, v := range sortedKeys(values) {
					parts = append(parts, fmt.Sprintf("%s=%s: %s", c.valueFrom, formatValue(v), fmtOps(values[v], 3)))
				}
				// Two requests acknowledged with different values prove it:
				// the first request of each of the first two values.
				vs := sortedKeys(values)
				a, b := values[vs[0]][0], values[vs[1]][0]
				why := fmt.Sprintf("Let requests #%d and #%d of %s run at once and be acknowledged with different %s values (%s and %s); Then %s has %d results where it may have one.",
					a.ID, b.ID, c.w.of(k), c.valueFrom, keyWord(vs[0]), keyWord(vs[1]), c.w.of(k), len(values))
				dups = append(dups, violation{k, fmt.Sprintf("%s%d different %s values acknowledged — %s", keyPrefix(k), len(values), c.valueFrom, strings.Join(parts, " | ")), len(values) - 1, why, []*history.Op{a, b}, "winner"})
				extra += len(values) - 1
			}
		} else if len(ko.ok) > 1 {
			why := fmt.Sprintf("Let requests #%d and #%d of %s run at once; Then both were acknowledged where at most one may succeed (%d acknowledged in all).",
				ko.ok[0].ID, ko.ok[1].ID, c.w.of(k), len(ko.ok))
			dups = append(dups, violation{k, fmt.Sprintf("%s%d ok — %s", keyPrefix(k), len(ko.ok), fmtOps(ko.ok, 4)), len(ko.ok) - 1, why, ko.ok[:2], "winner"})
			extra += len(ko.ok) - 1
		}
		if c.require && len(ko.ok) == 0 && ko.counts.Unknown == 0 {
			why := fmt.Sprintf("Let %d requests of %s (%s) run, none of them unknown; Then every one was rejected where one must succeed.", ko.counts.Total(), c.w.of(k), opIDs(ko.all))
			none = append(none, violation{key: k, line: fmt.Sprintf("%snone of %d requests succeeded (%s)", keyPrefix(k), ko.counts.Total(), countsText(ko.counts)), why: why, ops: ko.all, role: "rejected"})
		}
	}
	if len(none) <= unplaced {
		none = nil // each may have been won by an unknown op that lost its key
	}
	res.Actual = fmt.Sprintf("%d %s, %d %s (%s)", len(keys), plural(len(keys), "key", "keys"), len(ops), plural(len(ops), "request", "requests"), countsText(all))
	if c.require && unplaced > 0 {
		res.Actual += fmt.Sprintf("; %d unknown %s carried no %s (response cut): each may have won one key", unplaced, plural(unplaced, "request", "requests"), c.group)
	}
	if len(dups) == 0 && len(none) == 0 {
		if c.require {
			res.Actual += "; every key has one winner or an unknown op"
		} else {
			res.Actual += "; no key has more than one winner"
		}
		return res.done(start)
	}
	res.Verdict = Fail
	sort.SliceStable(dups, func(i, j int) bool { return dups[i].n > dups[j].n })
	var words []string
	if len(dups) > 0 {
		res.Anomaly = "double submit (more than one request succeeded for one key)"
		res.Fix = exactlyOneFix
		words = append(words, fmt.Sprintf("%d %s with more than one winner (%d extra)", len(dups), plural(len(dups), "key", "keys"), extra))
	}
	if len(none) > 0 {
		if res.Anomaly == "" {
			res.Anomaly = "no request succeeded (every conflicting request was rejected)"
			res.Fix = "let exactly one request win: take the key with INSERT … ON CONFLICT DO NOTHING and check the row count, instead of rejecting every request that sees a conflict"
		}
		words = append(words, fmt.Sprintf("%d %s where no request succeeded", len(none), plural(len(none), "key", "keys")))
	}
	res.Actual += "; " + strings.Join(words, ", ")
	vs := append(dups, none...)
	res.Explanation = vs[0].why
	if n := len(vs) - 1; n > 0 {
		res.Explanation = strings.TrimSuffix(res.Explanation, ".") + fmt.Sprintf(" (and %d more %s).", n, plural(n, c.w.thing, c.w.thing+"s"))
	}
	res.addOps(vs[0].role, vs[0].ops...)
	for _, v := range vs {
		res.addEvidence(v.line)
	}
	return res.done(start)
}
