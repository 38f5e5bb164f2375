package invariants

import (
	"context"
	"fmt"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

const noLostUpdateFix = "Add optimistic locking: UPDATE … SET data = $1, version = version + 1 WHERE id = $2 AND version = $3, and answer 409 Conflict when no row changed"

// noLostUpdateChecker is the "no_lost_update" checker (audit RC-002, two-tab
// edit): Query returns (key, version) rows; Op is the conditional write.
// Every write that took effect bumps its key's version once, so per key
//
//	ok writes ≤ Δversion ≤ ok writes + unknown writes
//
// and a stale write must be rejected (the profile counts 409 as fail). With
// version_from naming the base version each write carried, two acknowledged
// writes of one key based on the same version are a lost update even when
// the service bumps the version blindly (version = version + 1 without the
// WHERE version = $base).
type noLostUpdateChecker struct {
	name        string
	query       string
	op          string
	group       string
	versionFrom string
	w           words
	before      snapshot[map[string]any]
}

// noLostUpdateCheck is the checker's name, written once: the profile's check: value.
const noLostUpdateCheck = "no_lost_update"

func init() {
	Register(Kind[noLostUpdateFields]{
		Name: noLostUpdateCheck, About: "versions grow by the acknowledged writes (two-tab edit, RC-002)",
		Query: Required, Op: Required, New: newNoLostUpdate,
	})
}

// noLostUpdateFields are no_lost_update's own fields.
type noLostUpdateFields struct {
	Group       string `yaml:"group" jsonschema_description:"The rendered value or capture that groups ops by key; default the op's history key."`
	VersionFrom string `yaml:"version_from" jsonschema_description:"The rendered value or capture carrying the base version a write carried."`
}

func newNoLostUpdate(inv profiles.Invariant, f *noLostUpdateFields) (Checker, error) {
	return &noLostUpdateChecker{name: checkName(inv, noLostUpdateCheck), query: inv.Query, op: inv.Op, group: f.Group, versionFrom: f.VersionFrom, w: wordsOf(inv)}, nil
}

// Prepare records each key's version after setup.
func (c *noLostUpdateChecker) Prepare(ctx context.Context, env *Env) error {
	var m map[string]any
	var err error
	if env == nil || env.DB == nil {
		err = fmt.Errorf("no database to query")
	} else {
		m, err = keyedValues(ctx, env.DB, c.query)
	}
	c.before.set(m, err)
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.name, err)
	}
	return nil
}

func (c *noLostUpdateChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	expected := "per key, the version grew by at least the acknowledged writes and at most the acknowledged and unknown ones"
	if c.versionFrom != "" {
		expected += fmt.Sprintf("; no two acknowledged writes based on the same %s", c.versionFrom)
	}
	res := newResult(c.name, noLostUpdateCheck, expected)
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
	type keyWrites struct {
		counts history.Counts
		ok     []*history.Op
		// mayHave are the ok and unknown writes, up to MaxOps.
		mayHave []*history.Op
		bases   map[string][]*history.Op // base version → ok writes
	}
	keys := map[string]*keyWrites{}
	var all history.Counts
	// unplaced counts unknown writes whose key was lost with their response
	// (group names a capture): each may have bumped any key once.
	unplaced := 0
	for _, o := range ops {
		all.Add(o.Outcome)
		k, found := groupKey(o, c.group)
		if !found {
			switch o.Outcome {
			case history.Fail:
				continue
			case history.Unknown:
				unplaced++
				continue
			}
			return res.errorf(start, "op %s has no value or capture %q to group by", fmtOp(o), c.group)
		}
		kw := keys[k]
		if kw == nil {
			kw = &keyWrites{bases: map[string][]*history.Op{}}
			keys[k] = kw
		}
		kw.counts.Add(o.Outcome)
		if o.Outcome != history.Fail && len(kw.mayHave) < MaxOps {
			kw.mayHave = append(kw.mayHave, o)
		}
		if o.Outcome != history.OK {
			continue
		}
		kw.ok = append(kw.ok, o)
		if c.versionFrom != "" {
			v, found := opValue(o, c.versionFrom)
			if !found {
				return res.errorf(start, "ok op %s has no value or capture %q holding the version it was based on", fmtOp(o), c.versionFrom)
			}
			t, _ := valueText(v)
			kw.bases[t] = append(kw.bases[t], o)
		}
	}
	after, err := keyedValues(ctx, env.DB, c.query)
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}

	var lost, phantom []string
	var phantomWhy string
	var phantomOps []*history.Op
	var explained bool
	explain := func(text, role string, ops []*history.Op) {
		if explained {
			return
		}
		explained = true
		res.Explanation = text
		res.addOps(role, ops...)
	}
	lostKeys := map[string]bool{}
	names := map[string]bool{}
	for k := range keys {
		names[k] = true
	}
	for k := range after {
		names[k] = true
	}
	for _, k := range sortedKeys(names) {
		kw := keys[k]
		if kw == nil {
			kw = &keyWrites{}
		}
		b, hadBefore := before[k]
		a, hasAfter := after[k]
		if !hadBefore || !hasAfter {
			if kw.counts.OK+kw.counts.Unknown == 0 {
				continue
			}
			when := "before"
			if hadBefore {
				when = "after"
			}
			return res.errorf(start, "key %s: no row %s the attack, so its version change is unknown (the query must return every written key before and after)", formatValue(k), when)
		}
		bv, err := toRat(b)
		if err != nil {
			return res.errorf(start, "key %s: the version before the attack %v", formatValue(k), err)
		}
		av, err := toRat(a)
		if err != nil {
			return res.errorf(start, "key %s: the version after the attack %v", formatValue(k), err)
		}
		delta := ratSub(av, bv)
		okN, unkN := kw.counts.OK, kw.counts.Unknown
		switch {
		case delta.Cmp(ratMul(ratOf(1), okN)) < 0:
			byInvoke(kw.ok)
			lostKeys[k] = true
			lost = append(lost, fmt.Sprintf("%sversion %s→%s (%s) but %d %s acknowledged — %s", keyPrefix(k), fmtRat(bv), fmtRat(av), fmtSigned(delta), okN, plural(okN, "write", "writes"), fmtOps(kw.ok, 4)))
			if len(kw.bases) == 0 {
				explain(fmt.Sprintf("Let %s (%s) of %s be acknowledged; Then its version went from %s to %s, %s: %s overwritten without a conflict.",
					opCount(kw.ok, "write", "writes"), c.op, c.w.of(k), fmtRat(bv), fmtRat(av), countWord(delta, "bump", "bumps"), countWord(ratSub(ratMul(ratOf(1), okN), delta), "acknowledged write was", "acknowledged writes were")), "acknowledged write", kw.ok)
			}
		case delta.Cmp(ratMul(ratOf(1), okN+unkN+unplaced)) > 0:
			line := fmt.Sprintf("%sversion %s→%s (%s) but only %d ok and %d unknown %s", keyPrefix(k), fmtRat(bv), fmtRat(av), fmtSigned(delta), okN, unkN, plural(okN+unkN, "write", "writes"))
			if unplaced > 0 {
				line += fmt.Sprintf(", and %d unknown %s of any key", unplaced, plural(unplaced, "write", "writes"))
			}
			phantom = append(phantom, line)
			if phantomWhy == "" {
				phantomWhy = fmt.Sprintf("Let %s be the only writes of %s that took effect or may have (%d ok, %d unknown); Then its version went from %s to %s, %s more than they could bump it.",
					opIDs(kw.mayHave[:min(len(kw.mayHave), MaxOps)]), c.w.of(k), okN, unkN, fmtRat(bv), fmtRat(av), fmtRat(ratSub(delta, ratMul(ratOf(1), okN+unkN))))
				phantomOps = kw.mayHave
			}
		}
		for _, base := range sortedKeys(kw.bases) {
			if ws := kw.bases[base]; len(ws) > 1 {
				byInvoke(ws)
				lostKeys[k] = true
				lost = append(lost, fmt.Sprintf("%s%d writes based on %s %s were all acknowledged — %s", keyPrefix(k), len(ws), c.versionFrom, formatValue(base), fmtOps(ws, 4)))
				explain(fmt.Sprintf("Let %s %s of %s all be based on %s %s; Then %s acknowledged, so all but the last were overwritten without a conflict.",
					plural(len(ws), "write", "writes"), opIDs(ws), c.w.of(k), c.versionFrom, keyWord(base), allOf(len(ws), "were")), "write on base "+c.versionFrom+" "+base, ws)
			}
		}
	}
	res.Actual = fmt.Sprintf("%d %s written by %d %s (%s)", len(keys), plural(len(keys), "key", "keys"), len(ops), plural(len(ops), "request", "requests"), countsText(all))
	if unplaced > 0 {
		res.Actual += fmt.Sprintf("; %d unknown %s carried no %s (response cut): each may have bumped any key once", unplaced, plural(unplaced, "write", "writes"), c.group)
	}
	if len(lost) == 0 && len(phantom) == 0 {
		res.Actual += "; every version change matches the writes"
		return res.done(start)
	}
	res.Verdict = Fail
	res.Fix = noLostUpdateFix
	if len(lost) > 0 {
		res.Anomaly = "lost update (last write wins silently)"
		res.Actual += fmt.Sprintf("; acknowledged writes overwritten without a conflict on %d %s", len(lostKeys), plural(len(lostKeys), "key", "keys"))
	} else {
		res.Anomaly = "phantom version bumps"
		res.Fix = "Add optimistic locking: bump the version only in the conditional UPDATE of an accepted write, once per request"
	}
	if len(phantom) > 0 {
		res.Actual += fmt.Sprintf("; %d %s bumped more often than written to", len(phantom), plural(len(phantom), "key was", "keys were"))
	}
	if !explained && len(phantom) > 0 {
		res.Explanation = phantomWhy
		res.addOps("write", phantomOps...)
	}
	for _, l := range append(lost, phantom...) {
		res.addEvidence(l)
	}
	return res.done(start)
}
