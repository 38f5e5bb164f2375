package invariants

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/collide-dev/collide/profiles"
)

func init() { Register("bounded_debits", newBoundedDebits) }

const debitFix = "a conditional UPDATE … SET balance = balance - $1 WHERE id = $2 AND balance >= $1 (409 when no row changed), SELECT … FOR UPDATE around check-then-debit, or a CHECK (balance >= 0) constraint"

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
	before    snapshot[numberAt]
}

func newBoundedDebits(inv profiles.Invariant) (Checker, error) {
	if err := onlyFields(inv, "bounded_debits", "query", "op", "amount", "value_from", "floor"); err != nil {
		return nil, err
	}
	if err := requireFields(inv, "bounded_debits", "query", "op"); err != nil {
		return nil, err
	}
	if inv.Amount != 0 && inv.ValueFrom != "" {
		return nil, fmt.Errorf("set amount (the same debit for every op) or value_from (each op's own debit), not both")
	}
	if inv.Amount < 0 {
		return nil, fmt.Errorf("amount must be positive: it is what one op takes away")
	}
	c := &boundedDebitsChecker{name: checkName(inv, "bounded_debits"), query: inv.Query, op: inv.Op, amount: big.NewRat(1, 1), valueFrom: inv.ValueFrom}
	if inv.Amount != 0 {
		c.amount = ratOf(inv.Amount)
	}
	if inv.Floor != nil {
		c.floor = ratOf(*inv.Floor)
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
	res := newResult(c.name, "bounded_debits", "")
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
		res.Expected += fmt.Sprintf("; never below %s, and acknowledged debits at most %s", fmtRat(c.floor), fmtRat(ratSub(before.n, c.floor)))
	}
	after, col, err := queryNumber(ctx, env.DB, c.query)
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}
	res.Actual = fmt.Sprintf("%s = %s (%s since setup); %s: %s, acknowledged debits %s", col, fmtRat(after), fmtSigned(ratSub(after, before.n)), c.op, debits.counts, fmtRat(debits.ok))
	res.Evidence = []string{
		fmt.Sprintf("before the attack: %s=%s", before.col, fmtRat(before.n)),
		fmt.Sprintf("after: %s=%s", col, fmtRat(after)),
		fmt.Sprintf("%s: %s", c.op, debits.counts),
	}
	var problems []string
	if c.floor != nil {
		if after.Cmp(c.floor) < 0 {
			problems = append(problems, fmt.Sprintf("%s fell %s below %s", col, fmtRat(ratSub(c.floor, after)), fmtRat(c.floor)))
			res.Anomaly = "oversell / overdraft (TOCTOU)"
		}
		if room := ratSub(before.n, c.floor); debits.ok.Cmp(room) > 0 {
			problems = append(problems, fmt.Sprintf("%s acknowledged beyond the %s available (%s oversold)",
				debits.shortfall(ratSub(debits.ok, room), "debit", "debits"), fmtRat(room), fmtRat(ratSub(debits.ok, room))))
			res.Anomaly = "oversell / overdraft (TOCTOU)"
		}
	}
	switch {
	case after.Cmp(hi) > 0:
		problems = append(problems, debits.shortfall(ratSub(after, hi), "acknowledged debit", "acknowledged debits")+" missing from the balance")
		if res.Anomaly == "" {
			res.Anomaly = "lost update (acknowledged debits missing)"
		}
	case after.Cmp(lo) < 0:
		problems = append(problems, debits.shortfall(ratSub(lo, after), "debit", "debits")+" more taken than the ok and unknown ops could take")
		if res.Anomaly == "" {
			res.Anomaly = "phantom debits / double apply"
		}
	}
	if len(problems) > 0 {
		res.Verdict = Fail
		res.Actual += ": " + strings.Join(problems, "; ")
		res.Fix = debitFix
		if res.Anomaly == "phantom debits / double apply" {
			res.Fix = "apply each debit once: an idempotency key stored in the debit's transaction, and no blind retries of non-idempotent writes"
		}
	}
	return res.done(start)
}
