package invariants

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

const allPresentFix = "Use atomic database operations: add to a collection with one INSERT per item (or an atomic array append / SADD) instead of read-modify-write of the whole collection, or lock the parent row (SELECT … FOR UPDATE) around the change"

// allPresentChecker is the "all_present" checker (audit RC-003, concurrent
// collection add): Query returns the ids present (one column). Every value
// that an ok op of Op sent or got back (value_from: a rendered value such as
// uuid, or a capture such as id) must be present; nothing may be present
// that no ok or unknown op sent and that was not there after setup; and no
// item may appear more often than it was added.
type allPresentChecker struct {
	name      string
	query     string
	op        string
	valueFrom string
	w         words
	before    snapshot[map[string]int]
}

// allPresentCheck is the checker's name, written once: the profile's check: value.
const allPresentCheck = "all_present"

func init() {
	Register(Kind[allPresentFields]{
		Name: allPresentCheck, About: "every acknowledged add is there, nothing else (RC-003)",
		Query: Required, Op: Required, New: newAllPresent,
	})
}

// allPresentFields are all_present's own fields.
type allPresentFields struct {
	ValueFrom string `yaml:"value_from" jsonschema_description:"The rendered request value or response capture naming the item each op adds (required)."`
}

func newAllPresent(inv profiles.Invariant, f *allPresentFields) (Checker, error) {
	if f.ValueFrom == "" {
		return nil, fmt.Errorf("value_from is required by checker %s", allPresentCheck)
	}
	return &allPresentChecker{name: checkName(inv, allPresentCheck), query: inv.Query, op: inv.Op, valueFrom: f.ValueFrom, w: wordsOf(inv)}, nil
}

// Prepare records the items present after setup.
func (c *allPresentChecker) Prepare(ctx context.Context, env *Env) error {
	var m map[string]int
	var err error
	if env == nil || env.DB == nil {
		err = fmt.Errorf("no database to query")
	} else {
		m, err = presentItems(ctx, env.DB, c.query)
	}
	c.before.set(m, err)
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.name, err)
	}
	return nil
}

// presentItems counts the values of the query's first column.
func presentItems(ctx context.Context, db database.DB, q string) (map[string]int, error) {
	m := map[string]int{}
	_, err := db.Each(ctx, q, func(row []any) error {
		if len(row) == 0 {
			return fmt.Errorf("the query returns no column: want the item ids")
		}
		if t, ok := valueText(row[0]); ok {
			m[t]++
		}
		return nil
	})
	return m, err
}

func (c *allPresentChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, allPresentCheck, fmt.Sprintf("every %s acknowledged by %s is present once; nothing present that no request sent", c.valueFrom, c.op))
	if env == nil || env.DB == nil {
		return res.errorf(start, "no database to query")
	}
	if err := checkOpNames(env, c.op); err != nil {
		return res.errorf(start, "%v", err)
	}
	before, err := c.before.get()
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	ops, err := readOps(env, c.op)
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	if len(ops) == 0 {
		return res.errorf(start, "the history has no %q ops: nothing to check", c.op)
	}
	acked := map[string]*history.Op{}     // value → first ok op that sent it
	senders := map[string][]*history.Op{} // value → its ok and unknown ops, up to MaxOps
	sent := map[string]bool{}             // values of ok and unknown ops
	// blind counts unknown ops whose value was lost with their response (a
	// capture: an id the service assigned). Each may have added one item
	// nobody saw sent: items no request sent are bounded by blind, not
	// forbidden.
	blind := 0
	var all history.Counts
	for _, o := range ops {
		all.Add(o.Outcome)
		if o.Outcome == history.Fail {
			continue
		}
		v, found := opValue(o, c.valueFrom)
		if !found {
			if o.Outcome == history.Unknown {
				blind++ // a capture is lost with its response; a rendered value never is
				continue
			}
			return res.errorf(start, "ok op %s has no value or capture %q", fmtOp(o), c.valueFrom)
		}
		t, ok := valueText(v)
		if !ok {
			return res.errorf(start, "ok op %s: %s is null", fmtOp(o), c.valueFrom)
		}
		sent[t] = true
		if len(senders[t]) < MaxOps {
			senders[t] = append(senders[t], o)
		}
		if o.Outcome == history.OK && acked[t] == nil {
			acked[t] = o
		}
	}
	present, err := presentItems(ctx, env.DB, c.query)
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}
	var missing, phantom, dup []string
	var missingOps []*history.Op
	var whyPhantom, whyDup string
	var dupOps []*history.Op
	item := firstNonEmpty(c.w.unit, "item")
	for _, v := range sortedKeys(acked) {
		if present[v] == 0 {
			missing = append(missing, fmt.Sprintf("%s acknowledged by %s but not present", formatValue(v), fmtOp(acked[v])))
			missingOps = append(missingOps, acked[v])
		}
	}
	unsent := 0 // items present that no request was seen sending
	for _, v := range sortedKeys(present) {
		n := present[v]
		switch {
		case !sent[v] && n > before[v]:
			unsent += n - before[v]
			phantom = append(phantom, fmt.Sprintf("%s present ×%d, but no ok or unknown request sent it", formatValue(v), n-before[v]))
			if whyPhantom == "" {
				whyPhantom = fmt.Sprintf("Let no ok or unknown request of %s send %s %s; Then it is present %d %s all the same.", c.op, item, formatValue(v), n-before[v], plural(n-before[v], "time", "times"))
			}
		case sent[v] && n > max(before[v], 1):
			dup = append(dup, fmt.Sprintf("%s present ×%d, added once", formatValue(v), n))
			if whyDup == "" {
				whyDup = fmt.Sprintf("Let %s send %s %s; Then it is present %d times where it was added once.", andList(opRefsText(senders[v])), item, formatValue(v), n)
				dupOps = senders[v]
			}
		}
	}
	if unsent <= blind {
		phantom = nil // each may be the item of an unknown op that lost its answer
	}
	items := 0
	for _, n := range present {
		items += n
	}
	res.Actual = fmt.Sprintf("%d %s present; %d %s acknowledged (%s: %s)", items, plural(items, "item", "items"), len(acked), plural(len(acked), "add", "adds"), c.op, countsText(all))
	if blind > 0 {
		res.Actual += fmt.Sprintf("; %d unknown %s carried no %s (response cut): up to as many items may be present unseen", blind, plural(blind, "request", "requests"), c.valueFrom)
	}
	if len(missing)+len(phantom)+len(dup) == 0 {
		res.Actual += "; all present"
		return res.done(start)
	}
	res.Verdict = Fail
	res.Fix = allPresentFix
	var words []string
	switch {
	case len(missing) > 0:
		// Each missing item is proven by the one request that added it.
		shown := missingOps[:min(len(missingOps), 3)]
		var parts []string
		for _, o := range shown {
			v, _ := opValue(o, c.valueFrom)
			parts = append(parts, fmt.Sprintf("#%d add %s %s", o.ID, item, formatValue(v)))
		}
		more := ""
		if len(missingOps) > len(shown) {
			more = fmt.Sprintf(" (and %d more)", len(missingOps)-len(shown))
		}
		res.Explanation = fmt.Sprintf("Let %s%s be acknowledged; Then %s not present: acknowledged, then lost.",
			andList(parts), more, plural(len(missingOps), "it is", "they are"))
		res.addOps("acknowledged, missing", missingOps...)
	case len(phantom) > 0:
		res.Explanation = whyPhantom
	default:
		res.Explanation = whyDup
		res.addOps("sent it", dupOps...)
	}
	if len(missing) > 0 {
		res.Anomaly = "lost insert"
		words = append(words, fmt.Sprintf("%d acknowledged %s missing", len(missing), plural(len(missing), "item", "items")))
	}
	if len(phantom) > 0 {
		if res.Anomaly == "" {
			res.Anomaly = "phantom item"
			res.Fix = "insert only what a request asked for; check for leftovers of earlier runs in setup"
		}
		words = append(words, fmt.Sprintf("%d %s no request sent", len(phantom), plural(len(phantom), "item", "items")))
	}
	if len(dup) > 0 {
		if res.Anomaly == "" {
			res.Anomaly = "duplicate item"
			res.Fix = uniqueFix
		}
		words = append(words, fmt.Sprintf("%d %s added more than once", len(dup), plural(len(dup), "item", "items")))
	}
	res.Actual += "; " + strings.Join(words, ", ")
	for _, l := range append(append(missing, phantom...), dup...) {
		res.addEvidence(l)
	}
	return res.done(start)
}
