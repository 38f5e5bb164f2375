package invariants

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

const newestWinsFix = "Add optimistic locking: compare-and-set on a monotonic version: UPDATE … SET result = $1, version = $2 WHERE id = $3 AND version < $2, so a superseded job's write is a no-op"

// newestWinsChecker is the "newest_wins" checker (audit RC-004, out-of-order
// jobs): Query returns the final result per key as (key, value) rows, where
// value is the sequence of the job whose result is stored. Every op of Op
// carries its job's sequence (version_from: a rendered value, default seq,
// or a capture). For every key:
//
//   - final ≥ the highest sequence among its ok ops: the newest acknowledged
//     job is not overwritten by an older one (an unknown newer job may have
//     won too, hence ≥);
//   - final is the sequence of one of its ok or unknown ops, or the value
//     after setup: a value some request actually wrote.
type newestWinsChecker struct {
	name        string
	query       string
	op          string
	versionFrom string
	group       string
	w           words
	before      snapshot[map[string]any]
}

// newestWinsCheck is the checker's name, written once: the profile's check: value.
const newestWinsCheck = "newest_wins"

func init() {
	Register(Kind[newestWinsFields]{
		Name: newestWinsCheck, About: "the stored result is the newest acknowledged job's (RC-004)",
		Query: Required, Op: Required, New: newNewestWins,
	})
}

// newestWinsFields are newest_wins' own fields.
type newestWinsFields struct {
	VersionFrom string `yaml:"version_from" jsonschema_description:"The rendered value or capture carrying each op's version or sequence (default seq)."`
	Group       string `yaml:"group" jsonschema_description:"The rendered value or capture that groups ops by key; default the op's history key."`
}

// Defaults orders ops by their sequence number unless told otherwise.
func (f *newestWinsFields) Defaults() { f.VersionFrom = firstNonEmpty(f.VersionFrom, "seq") }

func newNewestWins(inv profiles.Invariant, f *newestWinsFields) (Checker, error) {
	return &newestWinsChecker{name: checkName(inv, newestWinsCheck), query: inv.Query, op: inv.Op,
		versionFrom: f.VersionFrom, group: f.Group, w: wordsOf(inv)}, nil
}

// Prepare records each key's value after setup.
func (c *newestWinsChecker) Prepare(ctx context.Context, env *Env) error {
	m, err := c.read(ctx, env)
	c.before.set(m, err)
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.name, err)
	}
	return nil
}

// read runs the query and maps each key's text to its value.
func (c *newestWinsChecker) read(ctx context.Context, env *Env) (map[string]any, error) {
	if env == nil || env.DB == nil {
		return nil, fmt.Errorf("no database to query")
	}
	return keyedValues(ctx, env.DB, c.query)
}

func (c *newestWinsChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, newestWinsCheck, fmt.Sprintf("per key, the stored %s is at least the newest acknowledged one, and one some request wrote", c.versionFrom))
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
	type keyJobs struct {
		newest    *history.Op
		newestSeq *big.Rat
		written   map[string]*history.Op // sequence text → the op that sent it
		// blind counts unknown ops of the key whose sequence nobody saw
		// (their response was cut before the capture).
		blind int
	}
	keys := map[string]*keyJobs{}
	var all history.Counts
	// unplaced counts unknown ops whose key nobody saw: any key may hold
	// what they wrote. An unknown op may explain a newer stored value,
	// never an older one, so the stale check stands; only "a value no
	// request wrote" is left undecided where they may have written it.
	unplaced, blind := 0, 0
	for _, o := range ops {
		all.Add(o.Outcome)
		if o.Outcome == history.Fail {
			continue
		}
		k, found := groupKey(o, c.group)
		if !found {
			if o.Outcome == history.Unknown {
				unplaced++
				continue
			}
			return res.errorf(start, "op %s has no value or capture %q to group by", fmtOp(o), c.group)
		}
		v, found := opValue(o, c.versionFrom)
		if !found {
			if o.Outcome == history.Unknown {
				kj := keys[k]
				if kj == nil {
					kj = &keyJobs{written: map[string]*history.Op{}}
					keys[k] = kj
				}
				kj.blind++
				blind++
				continue
			}
			return res.errorf(start, "op %s has no value or capture %q holding its sequence", fmtOp(o), c.versionFrom)
		}
		seq, err := toRat(v)
		if err != nil {
			return res.errorf(start, "op #%d: %s %v", o.ID, c.versionFrom, err)
		}
		kj := keys[k]
		if kj == nil {
			kj = &keyJobs{written: map[string]*history.Op{}}
			keys[k] = kj
		}
		kj.written[fmtRat(seq)] = o
		if o.Outcome == history.OK && (kj.newestSeq == nil || seq.Cmp(kj.newestSeq) > 0) {
			kj.newest, kj.newestSeq = o, seq
		}
	}
	after, err := keyedValues(ctx, env.DB, c.query)
	if err != nil {
		return res.errorf(start, "query: %v", err)
	}

	var stale, unwritten []string
	unwrittenWhy := ""
	explain := func(text string, roles ...any) {
		if res.Explanation != "" {
			return
		}
		res.Explanation = text
		for i := 0; i+1 < len(roles); i += 2 {
			if o, _ := roles[i+1].(*history.Op); o != nil {
				res.addOps(roles[i].(string), o)
			}
		}
	}
	checkKey := func(k string, final any, present bool) error {
		kj := keys[k]
		if kj == nil {
			kj = &keyJobs{written: map[string]*history.Op{}}
		}
		if !present || final == nil {
			if kj.newest != nil {
				stale = append(stale, fmt.Sprintf("%sno result stored, but job %s=%s was acknowledged (%s)", keyPrefix(k), c.versionFrom, fmtRat(kj.newestSeq), fmtOp(kj.newest)))
				explain(fmt.Sprintf("Let job #%d (%s %s) of %s be acknowledged; Then %s holds no result at all.",
					kj.newest.ID, c.versionFrom, fmtRat(kj.newestSeq), c.w.of(k), c.w.of(k)), "newer job, acknowledged", kj.newest)
			}
			return nil
		}
		fin, err := toRat(final)
		if err != nil {
			return fmt.Errorf("key %s: the stored value %v", formatValue(k), err)
		}
		writer := kj.written[fmtRat(fin)]
		if kj.newest != nil && fin.Cmp(kj.newestSeq) < 0 {
			line := fmt.Sprintf("%sstored %s=%s, older than acknowledged %s=%s (%s)", keyPrefix(k), c.versionFrom, fmtRat(fin), c.versionFrom, fmtRat(kj.newestSeq), fmtOp(kj.newest))
			if writer != nil {
				line += fmt.Sprintf("; the stale job was %s", fmtOp(writer))
				explain(fmt.Sprintf("Let the older job #%d (%s %s) of %s land last, after the newer job #%d (%s %s) was acknowledged at %s; Then %s holds %s %s, older than the acknowledged %s.",
					writer.ID, c.versionFrom, fmtRat(fin), c.w.of(k), kj.newest.ID, c.versionFrom, fmtRat(kj.newestSeq), clock(kj.newest.Complete),
					c.w.of(k), c.versionFrom, fmtRat(fin), fmtRat(kj.newestSeq)), "older job, landed last", writer, "newer job, acknowledged, overwritten", kj.newest)
			} else {
				explain(fmt.Sprintf("Let job #%d (%s %s) of %s be acknowledged; Then %s holds %s %s, older than the acknowledged one.",
					kj.newest.ID, c.versionFrom, fmtRat(kj.newestSeq), c.w.of(k), c.w.of(k), c.versionFrom, fmtRat(fin)), "newer job, acknowledged, overwritten", kj.newest)
			}
			stale = append(stale, line)
			return nil
		}
		if writer != nil || kj.blind > 0 || unplaced > 0 {
			return nil // written by a request, or perhaps by an unknown one
		}
		if b, had := before[k]; had && b != nil {
			if br, err := toRat(b); err == nil && br.Cmp(fin) == 0 {
				return nil // still the value setup left
			}
		}
		unwritten = append(unwritten, fmt.Sprintf("%sstored %s=%s, which no ok or unknown request sent and setup did not leave", keyPrefix(k), c.versionFrom, fmtRat(fin)))
		if unwrittenWhy == "" {
			unwrittenWhy = fmt.Sprintf("Let no ok or unknown request of %s send %s %s; Then %s holds %s %s all the same.",
				c.w.of(k), c.versionFrom, fmtRat(fin), c.w.of(k), c.versionFrom, fmtRat(fin))
		}
		return nil
	}
	for _, k := range sortedKeys(after) {
		if err := checkKey(k, after[k], true); err != nil {
			return res.errorf(start, "%v", err)
		}
	}
	for _, k := range sortedKeys(keys) {
		if _, present := after[k]; !present {
			if err := checkKey(k, nil, false); err != nil {
				return res.errorf(start, "%v", err)
			}
		}
	}
	res.Actual = fmt.Sprintf("%d %s stored, %d %s written by %d %s (%s)", len(after), plural(len(after), "key", "keys"),
		len(keys), plural(len(keys), "key", "keys"), len(ops), plural(len(ops), "request", "requests"), countsText(all))
	if n := blind + unplaced; n > 0 {
		res.Actual += fmt.Sprintf("; %d unknown %s carried no %s (response cut): they may explain a newer stored value, never an older one",
			n, plural(n, "request", "requests"), c.versionFrom)
	}
	if len(stale) == 0 && len(unwritten) == 0 {
		res.Actual += "; every key holds its newest acknowledged result or a newer one"
		return res.done(start)
	}
	res.Verdict = Fail
	res.Fix = newestWinsFix
	if res.Explanation == "" {
		res.Explanation = unwrittenWhy
	}
	if len(stale) > 0 {
		res.Anomaly = "stale overwrite (out-of-order completion)"
		res.Actual += fmt.Sprintf("; %d %s an older result than one acknowledged", len(stale), plural(len(stale), "key holds", "keys hold"))
	} else {
		res.Anomaly = "unwritten value (no request wrote the stored result)"
	}
	if len(unwritten) > 0 {
		res.Actual += fmt.Sprintf("; %d %s a value no request wrote", len(unwritten), plural(len(unwritten), "key holds", "keys hold"))
	}
	for _, l := range append(stale, unwritten...) {
		res.addEvidence(l)
	}
	return res.done(start)
}
