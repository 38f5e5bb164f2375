package invariants

import (
	"context"
	"fmt"
	"time"

	"github.com/collide-dev/collide/profiles"
)

func init() { Register("conservation", newConservation) }

const conservationFix = "move money in one transaction (debit and credit together), lock both rows with SELECT … FOR UPDATE in a fixed order (lowest id first), or run SERIALIZABLE with retries"

// conservationChecker is the "conservation" checker: a number read by
// Query (total money across accounts, items across bins) must be the same
// after the attack as after setup. Transfers move it, never create or
// destroy it, whatever their outcome, so unknown ops do not widen the bound.
type conservationChecker struct {
	name   string
	query  string
	before snapshot[numberAt]
}

func newConservation(inv profiles.Invariant) (Checker, error) {
	if err := onlyFields(inv, "conservation", "query"); err != nil {
		return nil, err
	}
	if err := requireFields(inv, "conservation", "query"); err != nil {
		return nil, err
	}
	return &conservationChecker{name: checkName(inv, "conservation"), query: inv.Query}, nil
}

// Prepare reads the total after setup.
func (c *conservationChecker) Prepare(ctx context.Context, env *Env) error {
	n, err := prepareNumber(ctx, env, c.query)
	c.before.set(n, err)
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.name, err)
	}
	return nil
}

func (c *conservationChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, "conservation", "")
	if env == nil || env.DB == nil {
		return res.errorf(start, "no database to query")
	}
	before, err := c.before.get()
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	res.Expected = fmt.Sprintf("%s stays %s, as after setup: transfers move it, never create or destroy it", before.col, fmtRat(before.n))
	after, col, err := queryNumber(ctx, env.DB, c.query)
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}
	delta := ratSub(after, before.n)
	res.Actual = fmt.Sprintf("%s = %s (%s since setup)", col, fmtRat(after), fmtSigned(delta))
	res.Evidence = []string{
		fmt.Sprintf("before the attack: %s=%s", before.col, fmtRat(before.n)),
		fmt.Sprintf("after: %s=%s", col, fmtRat(after)),
	}
	switch delta.Sign() {
	case 1:
		res.Verdict = Fail
		res.Anomaly = "money created"
		res.Actual += ": " + fmtRat(delta) + " appeared from nowhere"
		res.Fix = conservationFix
	case -1:
		res.Verdict = Fail
		res.Anomaly = "money destroyed"
		res.Actual += ": " + fmtRat(delta.Neg(delta)) + " vanished"
		res.Fix = conservationFix
	}
	return res.done(start)
}
