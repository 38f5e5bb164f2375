package invariants

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/collide-dev/collide/profiles"
)

const conservationFix = "Wrap operations in transactions: take from one row and add to the other in one transaction, lock the rows with SELECT … FOR UPDATE in a fixed order (lowest id first), or run SERIALIZABLE with retries"

// conservationChecker is the "conservation" checker: a number read by
// Query (total money across accounts, items across bins) must be the same
// after the attack as after setup. Transfers move it, never create or
// destroy it, whatever their outcome, so unknown ops do not widen the bound.
type conservationChecker struct {
	name   string
	query  string
	w      words
	before snapshot[numberAt]
}

// conservationCheck is the checker's name, written once: the profile's check: value.
const conservationCheck = "conservation"

func init() {
	Register(Kind[conservationFields]{
		Name: conservationCheck, About: "a number (total money) stays as it was after setup",
		Query: Required, New: newConservation,
	})
}

// conservationFields are conservation's own fields.
type conservationFields struct {
	PerKey bool `yaml:"per_key" jsonschema_description:"Check once per key: query returns (key, number) rows, each of which must stay as it was after setup."`
}

func newConservation(inv profiles.Invariant, f *conservationFields) (Checker, error) {
	if f.PerKey {
		w := wordsOf(inv)
		return newPerKey(inv, conservationCheck, "", "", nil, "per key, the number stays as after setup: requests move it, never create or destroy it", "", "",
			func(before, after *big.Rat, col string, _ *effect) (string, string, string, string) {
				delta := ratSub(after, before)
				problem, anomaly := w.judgeConservation(delta)
				return fmt.Sprintf("%s %s → %s (%s): %s", col, fmtRat(before), fmtRat(after), fmtSigned(delta), problem), problem, anomaly, conservationFix
			})
	}
	return &conservationChecker{name: checkName(inv, conservationCheck), query: inv.Query, w: wordsOf(inv)}, nil
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
	res := newResult(c.name, conservationCheck, "")
	if env == nil || env.DB == nil {
		return res.errorf(start, "no database to query")
	}
	before, err := c.before.get()
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	res.Expected = fmt.Sprintf("%s stays %s, as after setup: requests move it, never create or destroy it", before.col, c.w.amount(fmtRat(before.n)))
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
	if problem, anomaly := c.w.judgeConservation(delta); problem != "" {
		res.Verdict, res.Anomaly, res.Fix = Fail, anomaly, conservationFix
		res.Actual += ": " + problem
		res.explainNumber(env, c.w, "", nil, -1, "", col, before.n, after, "", problem)
	}
	return res.done(start)
}

// judgeConservation says whether a conserved number moved by delta: "" when
// it did not, else the problem and its anomaly, in the profile's unit
// ("40 units of stock appeared from nowhere", "units of stock created").
func (w words) judgeConservation(delta *big.Rat) (problem, anomaly string) {
	what := firstNonEmpty(w.unit, "conserved total")
	switch delta.Sign() {
	case 1:
		return w.amount(fmtRat(delta)) + " appeared from nowhere", what + " created"
	case -1:
		return w.amount(fmtRat(new(big.Rat).Neg(delta))) + " vanished", what + " destroyed"
	}
	return "", ""
}
