package invariants

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/collide-dev/collide/history"
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

// numberAt is a number a query returned, with its column's name.
type numberAt struct {
	n   *big.Rat
	col string
}

func init() {
	Register(Kind[counterFields]{
		Name: "counter", About: "a number grows by the increments that took effect (RC-006)",
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
		return newPerKey(inv, "counter", f.ValueFrom, f.Group, step, "per key, after − before between its ok and its ok + unknown increments (ops grouped by their key)", "increment", "increments",
			func(before, after *big.Rat, _ string, eff *effect) (string, string, string, string) {
				delta := ratSub(after, before)
				problem, anomaly, fix := eff.judgeCounter(delta)
				return fmt.Sprintf("after − before = %s (%s − %s), %s: %s; %s", fmtSigned(delta), fmtRat(after), fmtRat(before), eff.op, eff.counts, problem), problem, anomaly, fix
			})
	}
	return &counterChecker{name: checkName(inv, "counter"), query: inv.Query, op: inv.Op, step: step, valueFrom: f.ValueFrom, w: wordsOf(inv)}, nil
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

func prepareNumber(ctx context.Context, env *Env, q string) (numberAt, error) {
	if env == nil || env.DB == nil {
		return numberAt{}, fmt.Errorf("no database to query")
	}
	n, col, err := queryNumber(ctx, env.DB, q)
	return numberAt{n, col}, err
}

func (c *counterChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, "counter", "")
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
	res.Actual = fmt.Sprintf("after − before = %s (%s − %s); %s: %s", fmtSigned(delta), fmtRat(after), fmtRat(before.n), c.op, eff.counts)
	res.Evidence = []string{
		fmt.Sprintf("before the attack: %s=%s", before.col, fmtRat(before.n)),
		fmt.Sprintf("after: %s=%s", col, fmtRat(after)),
		fmt.Sprintf("%s: %s", c.op, eff.counts),
	}
	if problem, anomaly, fix := eff.judgeCounter(delta); problem != "" {
		res.Verdict, res.Anomaly, res.Fix = Fail, anomaly, fix
		res.Actual += "; " + problem
		res.explainNumber(env, c.w, c.op, nil, eff.counts.ok, "", col, before.n, after, c.w.ackedWords(&eff, "increment", "increments"), problem)
	} else if eff.lost > 0 {
		res.Verdict = Unknown
		res.Actual += "; " + eff.openBound(c.valueFrom)
	}
	return res.done(start)
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
	counts outcomeCounts
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
		return stepEffect(op, outcomeCounts{c.OK, c.Fail, c.Unknown}, step), nil
	}
	// Each op's amount goes into ok, lo and hi as it streams past: nothing
	// is kept per op, so a million-op history takes a fraction of a second.
	var sums effectSums
	err := eachOp(env, true, func(o *history.Op) error { return sums.add(o, op, valueFrom) }, op)
	return sums.effect(op), err
}

// stepEffect is the effect of ops that each add step: ok ones certainly,
// unknown ones perhaps.
func stepEffect(op string, counts outcomeCounts, step *big.Rat) effect {
	e := effect{op: op, counts: counts, step: step}
	e.ok = ratMul(step, counts.ok)
	unk := ratMul(step, counts.unknown)
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
	counts              outcomeCounts
	okSum, loSum, hiSum exactSum
	lost                int // unknown ops without their amount
}

// add counts o and adds its amount, named valueFrom, to the sums it may
// have gone into.
func (s *effectSums) add(o *history.Op, op, valueFrom string) error {
	s.counts.add(o.Outcome)
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
		return fmt.Sprintf("%s = %s: every acknowledged %s applied exactly once (%s: %s)", what, fmtSigned(e.lo), unit, e.op, e.counts)
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
