package invariants

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/collide-dev/collide/profiles"
)

const debitFix = "Use atomic database operations: a conditional UPDATE … SET balance = balance - $1 WHERE id = $2 AND balance >= $1 (409 when no row changed), SELECT … FOR UPDATE around check-then-debit, or a CHECK (balance >= 0) constraint"

// boundedDebitsChecker is the "bounded_debits" checker (TOCTOU debit,
// oversell): a balance read by Query must end at its value after setup less
// the debits that took effect. ok debits certainly did, unknown ones perhaps:
//
//	before − Σ(ok+unknown) ≤ after ≤ before − Σok
//
// With floor set, the balance may not go below it, and the acknowledged
// debits may not exceed before − floor (what was there to sell).
type boundedDebitsChecker struct {
	name      string
	query     string
	op        string
	amount    *big.Rat
	valueFrom string
	floor     *big.Rat
	w         words
	before    snapshot[numberAt]
}

// boundedDebitsCheck is the checker's name, written once: the profile's check: value.
const boundedDebitsCheck = "bounded_debits"

func init() {
	Register(Kind[boundedDebitsFields]{
		Name: boundedDebitsCheck, About: "a balance falls by the debits that took effect; optional floor",
		Query: Required, Op: Required, New: newBoundedDebits,
	})
}

// boundedDebitsFields are bounded_debits' own fields.
type boundedDebitsFields struct {
	Amount    float64  `yaml:"amount" jsonschema_description:"How much one op of op debits, a positive number (default 1)."`
	ValueFrom string   `yaml:"value_from" jsonschema_description:"The rendered request value or response capture holding each op's own debit (instead of amount)."`
	Floor     *float64 `yaml:"floor" jsonschema_description:"The lowest the balance may go (optional): acknowledged debits beyond before − floor are an oversell."`
	PerKey    bool     `yaml:"per_key" jsonschema_description:"Check once per key: query returns (key, balance) rows, each judged with the ops of its key (or group value)."`
	Group     string   `yaml:"group" jsonschema_description:"The rendered value or capture that groups ops by key (per_key); default the op's history key."`
}

func newBoundedDebits(inv profiles.Invariant, f *boundedDebitsFields) (Checker, error) {
	if math.IsNaN(f.Amount) || math.IsInf(f.Amount, 0) || f.Amount < 0 {
		return nil, inv.Fields.Errorf("amount", "must be a positive number (the debit of one op)")
	}
	if f.Floor != nil && (math.IsNaN(*f.Floor) || math.IsInf(*f.Floor, 0)) {
		return nil, inv.Fields.Errorf("floor", "must be a finite number")
	}
	if f.Amount != 0 && f.ValueFrom != "" {
		return nil, fmt.Errorf("set amount (the same debit for every op) or value_from (each op's own debit), not both")
	}
	c := &boundedDebitsChecker{name: checkName(inv, boundedDebitsCheck), query: inv.Query, op: inv.Op, amount: big.NewRat(1, 1), valueFrom: f.ValueFrom, w: wordsOf(inv)}
	if f.Amount != 0 {
		c.amount = ratOf(f.Amount)
	}
	if f.Floor != nil {
		c.floor = ratOf(*f.Floor)
	}
	if err := groupNeedsPerKey(f.Group, f.PerKey); err != nil {
		return nil, err
	}
	if f.PerKey {
		expected := fmt.Sprintf("per %s, it ends at its value before the attack less its acknowledged debits, and at most its unknown ones too (ops grouped by their key)", c.w.thing)
		if c.floor != nil {
			expected = fmt.Sprintf("per %s, never below %s: its acknowledged debits take at most what it held above %s, and it ends at its value before the attack less them (and at most its unknown ones too)", c.w.thing, fmtRat(c.floor), fmtRat(c.floor))
		}
		return newPerKey(inv, boundedDebitsCheck, f.ValueFrom, f.Group, c.amount, expected, "debit", "debits",
			func(before, after *big.Rat, col string, eff *effect) (string, string, string, string) {
				problem, anomaly, fix := c.judge(before, after, col, eff)
				return fmt.Sprintf("%s %s → %s (%s), %s: %s, %s: %s", col, fmtRat(before), fmtRat(after),
					fmtSigned(ratSub(after, before)), eff.op, countsText(eff.counts), c.w.debitsAcked(eff), problem), problem, anomaly, fix
			})
	}
	return c, nil
}

// Prepare reads the balance after setup.
func (c *boundedDebitsChecker) Prepare(ctx context.Context, env *Env) error {
	n, err := prepareNumber(ctx, env, c.query)
	c.before.set(n, err)
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.name, err)
	}
	return nil
}

func (c *boundedDebitsChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, boundedDebitsCheck, "")
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
	debits, err := opEffect(env, c.op, c.amount, c.valueFrom)
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	// after = before − debits, debits ∈ [lo, hi]
	lo, hi := ratSub(before.n, debits.hi), ratSub(before.n, debits.lo)
	res.Expected = fmt.Sprintf("%s between %s and %s: %s less every acknowledged debit, and at most every unknown one", before.col, fmtRat(lo), fmtRat(hi), fmtRat(before.n))
	if lo.Cmp(hi) == 0 {
		res.Expected = fmt.Sprintf("%s = %s: %s less every acknowledged debit", before.col, fmtRat(lo), fmtRat(before.n))
	}
	if c.floor != nil {
		// The bound from the acknowledged debits may itself lie below the
		// floor (an oversell): say the floor and the room first.
		room := ratSub(before.n, c.floor)
		res.Expected = fmt.Sprintf("%s never below %s: acknowledged debits take at most the %s there were above %s, and %s ends at %s less them",
			before.col, fmtRat(c.floor), c.w.units(fmtRat(room), "units"), fmtRat(c.floor), before.col, fmtRat(before.n))
	}
	after, col, err := queryNumber(ctx, env.DB, c.query)
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}
	res.Actual = fmt.Sprintf("%s = %s (%s since setup); %s: %s, %s", col, fmtRat(after), fmtSigned(ratSub(after, before.n)), c.op, countsText(debits.counts), c.w.debitsAcked(&debits))
	res.Evidence = []string{
		fmt.Sprintf("before the attack: %s=%s", before.col, fmtRat(before.n)),
		fmt.Sprintf("after: %s=%s", col, fmtRat(after)),
		fmt.Sprintf("%s: %s", c.op, countsText(debits.counts)),
	}
	if problem, anomaly, fix := c.judge(before.n, after, col, &debits); problem != "" {
		res.Verdict, res.Anomaly, res.Fix = Fail, anomaly, fix
		res.Actual += ": " + problem
		res.explainNumber(env, c.w, c.op, nil, debits.counts.OK, "", col, before.n, after, c.w.ackedWords(&debits, "debit", "debits"), problem)
	} else if debits.lost > 0 {
		res.Verdict = Unknown
		res.Actual += "; " + debits.openBound(c.valueFrom)
	}
	return res.done(start)
}

// judge says whether a balance that went from before to after is within
// the bound of debits (and the floor): "" when it is, else the problems,
// the anomaly and the usual fix.
func (c *boundedDebitsChecker) judge(before, after *big.Rat, col string, debits *effect) (problem, anomaly, fix string) {
	lo, hi := ratSub(before, debits.hi), ratSub(before, debits.lo)
	var problems []string
	if c.floor != nil {
		if after.Cmp(c.floor) < 0 {
			problems = append(problems, fmt.Sprintf("%s fell %s below %s", col, c.w.amount(fmtRat(ratSub(c.floor, after))), fmtRat(c.floor)))
			anomaly = "oversell / overdraft (TOCTOU)"
		}
		if room := ratSub(before, c.floor); debits.ok.Cmp(room) > 0 {
			problems = append(problems, fmt.Sprintf("%s acknowledged beyond the %s available (%s oversold)",
				debits.shortfall(ratSub(debits.ok, room), "debit", "debits"), c.w.amount(fmtRat(room)), c.w.amount(fmtRat(ratSub(debits.ok, room)))))
			anomaly = "oversell / overdraft (TOCTOU)"
		}
	}
	switch {
	case debits.lost > 0:
		// The bound is open (effect.lost); the floor above still judges.
	case after.Cmp(hi) > 0:
		problems = append(problems, debits.shortfall(ratSub(after, hi), "acknowledged debit", "acknowledged debits")+" missing from the balance")
		if anomaly == "" {
			anomaly = "lost update (acknowledged debits missing)"
		}
	case after.Cmp(lo) < 0:
		problems = append(problems, debits.shortfall(ratSub(lo, after), "debit", "debits")+" more taken than the ok and unknown ops could take")
		if anomaly == "" {
			anomaly = "phantom debits / double apply"
		}
	}
	if len(problems) == 0 {
		return "", "", ""
	}
	fix = debitFix
	if anomaly == "phantom debits / double apply" {
		fix = "Implement idempotency keys: apply each debit once: an idempotency key stored in the debit's transaction, and no blind retries of non-idempotent writes"
	}
	return strings.Join(problems, "; "), anomaly, fix
}

// debitsAcked reads "23 debits acknowledged (23 units of stock)": the
// acknowledged debits counted as requests, then as the units they took.
func (w words) debitsAcked(e *effect) string {
	n := e.counts.OK
	return fmt.Sprintf("%d %s acknowledged (%s)", n, plural(n, "debit", "debits"), w.units(fmtRat(e.ok), "units"))
}
