package invariants

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// This file holds the structured counterexample of a failed check: the
// operations that prove it (OpRef) and the words of the domain (unit,
// thing) its explanation uses.

// OpRef names one history operation of a counterexample.
type OpRef struct {
	// ID is the operation's id in history.jsonl.
	ID uint64 `json:"id"`
	// Op is the operation's name from the profile.
	Op string `json:"op"`
	// Key is the key the operation acted on, if the profile names one.
	Key string `json:"key,omitempty"`
	// Invoke is when the request was started.
	Invoke time.Time `json:"invoke"`
	// Complete is when the response (or the error) arrived.
	Complete time.Time `json:"complete"`
	// Outcome is ok, fail or unknown.
	Outcome history.Outcome `json:"outcome"`
	// Status is the HTTP status code, or 0 when no response arrived.
	Status int `json:"status,omitempty"`
	// Role says what the operation is in the counterexample, e.g.
	// "overwritten", "stale job", "holder", "acknowledged".
	Role string `json:"role,omitempty"`
}

// String reads `#17 buy ok 201 03:04:05.123456→03:04:05.168012 (stale job)`.
func (r OpRef) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s", r.ID, r.Op, r.Outcome)
	if r.Status != 0 {
		fmt.Fprintf(&b, " %d", r.Status)
	}
	fmt.Fprintf(&b, " %s→%s", clock(r.Invoke), clock(r.Complete))
	if r.Role != "" {
		fmt.Fprintf(&b, " (%s)", r.Role)
	}
	return b.String()
}

// refOf is the OpRef of op in the given role.
func refOf(op *history.Op, role string) OpRef {
	return OpRef{ID: op.ID, Op: op.Op, Key: op.Key, Invoke: op.Invoke, Complete: op.Complete,
		Outcome: op.Outcome, Status: op.Status, Role: role}
}

// addOps adds ops to r.Ops in the given role, skipping ops already named,
// up to MaxOps; the ops left out are counted in MoreOps.
func (r *Result) addOps(role string, ops ...*history.Op) {
	for _, o := range ops {
		if o == nil || r.hasOp(o.ID) {
			continue
		}
		if len(r.Ops) >= MaxOps {
			r.MoreOps++
			continue
		}
		r.Ops = append(r.Ops, refOf(o, role))
	}
}

func (r *Result) hasOp(id uint64) bool {
	for _, o := range r.Ops {
		if o.ID == id {
			return true
		}
	}
	return false
}

// opIDs lists ids as "#3, #7 and #9".
func opIDs(ops []*history.Op) string {
	parts := make([]string, len(ops))
	for i, o := range ops {
		parts[i] = fmt.Sprintf("#%d", o.ID)
	}
	return andList(parts)
}

// andList joins "a", "a and b", "a, b and c".
func andList(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// words are the domain's words an invariant may name: the unit its number
// counts and the thing a key is. Empty fields fall back to neutral words.
type words struct {
	unit  string // e.g. "units of stock", "cents"; "" when the profile names none
	thing string // e.g. "product", "account"; "key" by default
}

func wordsOf(inv profiles.Invariant) words {
	return words{unit: strings.TrimSpace(inv.Unit), thing: firstNonEmpty(strings.TrimSpace(inv.Thing), "key")}
}

// amount words a number with the unit: "40 units of stock", or "40".
func (w words) amount(n string) string {
	if w.unit == "" {
		return n
	}
	return n + " " + w.unit
}

// of names a key: `product 7`, or `key "a"`. An empty key (a profile that
// uses no key) is "the <thing>" when a thing is named, else "".
func (w words) of(k string) string {
	if k == "" {
		if w.thing != "key" {
			return "the " + w.thing
		}
		return ""
	}
	return w.thing + " " + keyWord(k)
}

// ofSp is of followed by a space, or "" for no key.
func (w words) ofSp(k string) string {
	if s := w.of(k); s != "" {
		return s + " "
	}
	return ""
}

// keyWord is a key as the explanation shows it: bare when it is an
// integer, quoted otherwise.
func keyWord(k string) string {
	if _, err := strconv.ParseInt(k, 10, 64); err == nil {
		return k
	}
	return formatValue(k)
}

// sampleOK picks, from the ok ops of op that match (every op when match is
// nil), a few that show the race: the first group of ops that overlapped in
// time (at most MaxOps), or when none overlapped the first MaxOps; total is
// how many ok ops matched. It reads the history once and keeps at most
// MaxOps ops. An empty op matches every operation. When the caller already
// knows the total (known ≥ 0, e.g. from the tally), the reading stops as
// soon as the group is found.
func sampleOK(env *Env, op string, match func(*history.Op) bool, known int) (picked []*history.Op, total int, err error) {
	if env == nil || env.HistoryPath == "" {
		return nil, 0, nil
	}
	errFound := errors.New("found")
	defer func() {
		if errors.Is(err, errFound) {
			err = nil
		}
		if known >= 0 {
			total = known
		}
	}()
	var group, first []*history.Op
	var groupStart, groupEnd time.Time
	found := false
	err = history.Stream(env.HistoryPath, false, func(o *history.Op) error {
		if o.Outcome != history.OK || (op != "" && o.Op != op) || (match != nil && !match(o)) {
			return nil
		}
		total++
		if found {
			return nil
		}
		kept := *o
		if len(first) < MaxOps {
			first = append(first, &kept)
		}
		// The history is in completion order: an op joins the group when
		// its interval meets the group's.
		if len(group) > 0 && o.Invoke.Before(groupEnd) && o.Complete.After(groupStart) {
			group = append(group, &kept)
			if o.Complete.After(groupEnd) {
				groupEnd = o.Complete
			}
			if o.Invoke.Before(groupStart) {
				groupStart = o.Invoke
			}
			if len(group) == MaxOps {
				found = true
				if known >= 0 {
					return errFound
				}
			}
			return nil
		}
		if len(group) >= 2 {
			found = true
			if known >= 0 {
				return errFound
			}
			return nil
		}
		group, groupStart, groupEnd = []*history.Op{&kept}, o.Invoke, o.Complete
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, total, err
	}
	if len(group) >= 2 {
		return group, total, nil
	}
	return first, total, nil
}

// units words a number with the unit, or with def when the profile names
// none: "1380 cents", "1380 units".
func (w words) units(n, def string) string {
	if w.unit == "" {
		if n == "1" {
			return "1 " + strings.TrimSuffix(def, "s")
		}
		return n + " " + def
	}
	return n + " " + w.unit
}

// overlapping reports whether the first two of ops overlapped in time.
func overlapping(ops []*history.Op) bool {
	return len(ops) >= 2 && ops[1].Invoke.Before(ops[0].Complete) && ops[0].Invoke.Before(ops[1].Complete)
}

// samplePhrase is ", #3, #4 and #5 among them at once" or ", e.g. #3".
func samplePhrase(sample []*history.Op) string {
	switch {
	case len(sample) == 0:
		return ""
	case overlapping(sample):
		return fmt.Sprintf(", %s among them running at once", opIDs(sample))
	}
	return fmt.Sprintf(", e.g. %s", opIDs(sample))
}

// explainNumber sets r's explanation of a one-number check (see
// words.explainNumber) and names a sample of its acknowledged ops: the ok
// ops of op (every op when op is "") that match (all when match is nil);
// known is their count when the tally already has it, else -1. A history
// that cannot be read leaves the explanation without ops.
func (r *Result) explainNumber(env *Env, w words, op string, match func(*history.Op) bool, known int, key, col string, before, after *big.Rat, acked, problem string) {
	sample, total, err := sampleOK(env, op, match, known)
	if err != nil {
		sample, total = nil, 0
	}
	r.Explanation = w.explainNumber(key, col, before, after, acked, sample, total, problem)
	r.addOps("acknowledged", sample...)
	r.MoreOps += total - len(sample)
}

// explainNumber is the explanation of a one-number check (counter,
// bounded_debits, conservation) of one key ("" for the whole number):
// "Let 1000 increments (incr) be acknowledged, #3, #4 and #5 among them
// running at once; Then value went from 0 to 812: 188 acknowledged
// increments missing." acked words the acknowledged ops ("" when the
// checker reads none).
func (w words) explainNumber(key, col string, before, after *big.Rat, acked string, sample []*history.Op, total int, problem string) string {
	where := ""
	if s := w.of(key); s != "" {
		where = " of " + s
	}
	let := fmt.Sprintf("Let %s%s start at %s", col, where, w.amount(fmtRat(before)))
	if acked == "" && total > 0 {
		let += fmt.Sprintf(", and %d acknowledged %s act on it%s", total, plural(total, "request", "requests"), samplePhrase(sample))
	}
	if acked != "" {
		let = fmt.Sprintf("Let %s%s be acknowledged%s", acked, where, samplePhrase(sample))
	}
	return fmt.Sprintf("%s; Then %s%s went from %s to %s: %s.", let, col, where, fmtRat(before), fmtRat(after), problem)
}

// ackedWords words the acknowledged ops of an effect: "1000 increments
// (incr)", "23 debits (buy, 23 units of stock)".
func (w words) ackedWords(e *effect, one, many string) string {
	n := e.counts.OK
	if w.unit == "" && e.step != nil && e.step.Cmp(big.NewRat(1, 1)) == 0 {
		return fmt.Sprintf("%d %s (%s)", n, plural(n, one, many), e.op)
	}
	return fmt.Sprintf("%d %s (%s, %s)", n, plural(n, one, many), e.op, w.units(fmtRat(e.ok), "units"))
}

// opCount reads "3 writes #4, #7 and #9" (the ids of the first MaxOps).
func opCount(ops []*history.Op, one, many string) string {
	shown := ops[:min(len(ops), MaxOps)]
	s := fmt.Sprintf("%d %s %s", len(ops), plural(len(ops), one, many), opIDs(shown))
	if len(ops) > len(shown) {
		s += fmt.Sprintf(" …(%d more)", len(ops)-len(shown))
	}
	return s
}

// countWord reads "1 bump", "2 bumps", "0.5 bumps".
func countWord(n *big.Rat, one, many string) string {
	if n.IsInt() && n.Num().IsInt64() && n.Num().Int64() == 1 {
		return "1 " + one
	}
	return fmtRat(n) + " " + many
}

// opRefsText lists ops as "#3 (ok)", for a sentence.
func opRefsText(ops []*history.Op) []string {
	parts := make([]string, len(ops))
	for i, o := range ops {
		parts[i] = fmt.Sprintf("#%d (%s)", o.ID, o.Outcome)
	}
	return parts
}

// allOf reads "both were", "all 3 were".
func allOf(n int, verb string) string {
	if n == 2 {
		return "both " + verb
	}
	return fmt.Sprintf("all %d %s", n, verb)
}
