package invariants

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/collide-dev/collide/profiles"
)

const counterFix = "Use atomic database operations: UPDATE … SET v = v + 1, SELECT … FOR UPDATE around read-modify-write, or a stronger isolation level (REPEATABLE READ/SERIALIZABLE with retries)"

// counterChecker is the "counter" checker (audit RC-006): a number read by
// Query must grow by exactly the increments that took effect. With ok
// increments certainly applied and unknown ones perhaps, the growth Δ must
// satisfy ok×step ≤ Δ ≤ (ok+unknown)×step.
type counterChecker struct {
	name      string
	query     string
	op        string
	step      *big.Rat
	valueFrom string
	w         words
	before    snapshot[numberAt]
}

// counterCheck is the checker's name, written once: the profile's check: value.
const counterCheck = "counter"

func init() {
	Register(Kind[counterFields]{
		Name: counterCheck, About: "a number grows by the increments that took effect (RC-006)",
		Query: Required, Op: Required, New: newCounter,
	})
}

// counterFields are counter's own fields.
type counterFields struct {
	Step      float64 `yaml:"step" jsonschema_description:"How much one op of op adds to the number (default 1)."`
	ValueFrom string  `yaml:"value_from" jsonschema_description:"The rendered request value or response capture holding each op's own increment (instead of step)."`
	PerKey    bool    `yaml:"per_key" jsonschema_description:"Check once per key: query returns (key, number) rows, each judged with the ops of its key (or group value)."`
	Group     string  `yaml:"group" jsonschema_description:"The rendered value or capture that groups ops by key (per_key); default the op's history key."`
}

func newCounter(inv profiles.Invariant, f *counterFields) (Checker, error) {
	if math.IsNaN(f.Step) || math.IsInf(f.Step, 0) {
		return nil, inv.Fields.Errorf("step", "must be a finite number")
	}
	if f.Step != 0 && f.ValueFrom != "" {
		return nil, fmt.Errorf("set step (the same increment for every op) or value_from (each op's own increment), not both")
	}
	step := big.NewRat(1, 1)
	if f.Step != 0 {
		step = ratOf(f.Step)
	}
	if err := groupNeedsPerKey(f.Group, f.PerKey); err != nil {
		return nil, err
	}
	if f.PerKey {
		return newPerKey(inv, counterCheck, f.ValueFrom, f.Group, step, "per key, after − before between its ok and its ok + unknown increments (ops grouped by their key)", "increment", "increments",
			func(before, after *big.Rat, _ string, eff *effect) (string, string, string, string) {
				delta := ratSub(after, before)
				problem, anomaly, fix := eff.judgeCounter(delta)
				return fmt.Sprintf("after − before = %s (%s − %s), %s: %s; %s", fmtSigned(delta), fmtRat(after), fmtRat(before), eff.op, countsText(eff.counts), problem), problem, anomaly, fix
			})
	}
	return &counterChecker{name: checkName(inv, counterCheck), query: inv.Query, op: inv.Op, step: step, valueFrom: f.ValueFrom, w: wordsOf(inv)}, nil
}

// Prepare reads the number after setup.
func (c *counterChecker) Prepare(ctx context.Context, env *Env) error {
	n, err := prepareNumber(ctx, env, c.query)
	c.before.set(n, err)
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.name, err)
	}
	return nil
}

func (c *counterChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, counterCheck, "")
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
	eff, err := opEffect(env, c.op, c.step, c.valueFrom)
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	res.Expected = eff.expected("after − before", "increment")
	after, col, err := queryNumber(ctx, env.DB, c.query)
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}
	delta := ratSub(after, before.n)
	res.Actual = fmt.Sprintf("after − before = %s (%s − %s); %s: %s", fmtSigned(delta), fmtRat(after), fmtRat(before.n), c.op, countsText(eff.counts))
	res.Evidence = []string{
		fmt.Sprintf("before the attack: %s=%s", before.col, fmtRat(before.n)),
		fmt.Sprintf("after: %s=%s", col, fmtRat(after)),
		fmt.Sprintf("%s: %s", c.op, countsText(eff.counts)),
	}
	if problem, anomaly, fix := eff.judgeCounter(delta); problem != "" {
		res.Verdict, res.Anomaly, res.Fix = Fail, anomaly, fix
		res.Actual += "; " + problem
		res.explainNumber(env, c.w, c.op, nil, eff.counts.OK, "", col, before.n, after, c.w.ackedWords(&eff, "increment", "increments"), problem)
	} else if eff.lost > 0 {
		res.Verdict = Unknown
		res.Actual += "; " + eff.openBound(c.valueFrom)
	}
	return res.done(start)
}
